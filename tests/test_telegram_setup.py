"""`jupyter-helpers telegram`: the guided setup against the fake Bot API, as a newcomer runs it.

The real command, the real delivery child for the test message, the fake Bot API reached through
HTTPS_PROXY with a test CA (tests/support/fake_telegram.py); a user's message to the bot is played
by `user_sends`.
"""

from __future__ import annotations

import configparser
import os
import pty
import select
import stat
import subprocess
import time
from pathlib import Path

import pytest

from jupyter_helpers.installer.telegram import set_ini_keys

from conftest import BIN, TOKEN, cli, run_cli
from support.fake_telegram import WEBHOOK_CONFLICT
from support.processes import free_port

OTHER_TOKEN = "987654321:BBAnotherFakeTokenForTests_zyxwvut"


@pytest.fixture
def ini(home: Path, telegram) -> Path:
    """No telegram.ini yet (the `telegram` fixture wrote one: a newcomer has none)."""
    path = home / ".config" / "ntfy" / "telegram.ini"
    path.unlink()
    cli("install")
    return path


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "jupyter-helpers"), "telegram", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def wait_for_poll(telegram, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while telegram.polls == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert telegram.polls > 0, process.communicate(timeout=10)


def test_guided_setup_finds_the_chat_writes_the_file_and_sends_a_test(ini: Path, telegram) -> None:
    process = start("--token", TOKEN)
    wait_for_poll(telegram, process)
    telegram.user_sends("hello bot", chat_id=4242, first_name="Ada")
    out, err = process.communicate(timeout=90)
    assert process.returncode == 0, err
    lines = out.splitlines()
    assert lines[:4] == [
        "Bot: @t_bot",
        "Now send any message to @t_bot in Telegram (waiting up to 120 s) ...",
        "Chat: Ada (id 4242)",
        f"wrote: {ini} (token, chat_id; readable by you only)",
    ]
    assert lines[4].startswith("sent a test message via telegram in ") and lines[4].endswith(" s: check Telegram")
    assert TOKEN not in out + err
    parser = configparser.ConfigParser()
    parser.read(ini)
    assert dict(parser["telegram"]) == {"token": TOKEN, "chat_id": "4242"}
    assert stat.S_IMODE(ini.stat().st_mode) == 0o600
    assert telegram.texts() == ["✅ jupyter-helpers can reach you here: long runs will report to this chat."]
    assert telegram.messages[-1]["chat_id"] == "4242" and telegram.messages[-1]["path"] == f"/bot{TOKEN}/sendMessage"
    assert run_cli("status").returncode == 0


def test_a_message_sent_just_before_counts_at_once(ini: Path, telegram) -> None:
    telegram.user_sends("/start", chat_id=77, first_name="Bo")
    done = run_cli("telegram", "--token", TOKEN)
    assert "Chat: Bo (id 77)" in done.stdout


def test_an_existing_file_keeps_its_other_keys_and_lines(ini: Path, telegram) -> None:
    ini.write_text("# my notes\n[telegram]\ntoken = old\n  continued\nparse_mode = html\n\n[other]\nx = 1\n")
    ini.chmod(0o644)
    telegram.user_sends("hi")
    run_cli("telegram", "--token", TOKEN)
    assert ini.read_text() == (
        f"# my notes\n[telegram]\ntoken = {TOKEN}\nparse_mode = html\nchat_id = 4242\n\n[other]\nx = 1\n"
    )
    assert stat.S_IMODE(ini.stat().st_mode) == 0o600


def test_a_rejected_token_is_one_line_and_writes_nothing(ini: Path, telegram) -> None:
    telegram.mode = "unauthorized"
    done = cli("telegram", "--token", OTHER_TOKEN, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "jupyter-helpers: error: Telegram rejected the bot token (getMe: HTTP 401); copy it again from @BotFather\n"
    )
    assert OTHER_TOKEN not in done.stderr and not ini.exists()


def test_no_message_within_the_wait_is_one_line_and_writes_nothing(ini: Path, telegram) -> None:
    done = cli("telegram", "--token", TOKEN, "--wait", "1", check=False)
    assert done.returncode == 2
    assert done.stderr == (
        "jupyter-helpers: error: no message reached @t_bot within 1 s; open a chat with @t_bot "
        "in Telegram, send it anything, and run this again (or use --wait)\n"
    )
    assert not ini.exists() and telegram.texts() == []


def test_no_network_is_one_line(ini: Path, telegram, monkeypatch: pytest.MonkeyPatch) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("HTTPS_PROXY", closed)
    monkeypatch.setenv("https_proxy", closed)
    done = cli("telegram", "--token", TOKEN, check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("jupyter-helpers: error: cannot reach api.telegram.org (")
    assert TOKEN not in done.stderr and not ini.exists()


@pytest.mark.parametrize("token, wait", [("not-a-token", "5"), (TOKEN, "0"), (TOKEN, "nan")])
def test_bad_arguments_are_one_line(ini: Path, telegram, token: str, wait: str) -> None:
    done = cli("telegram", "--token", token, "--wait", wait, check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert not ini.exists() and telegram.messages == []


def test_the_token_is_asked_for_without_echo(ini: Path, telegram) -> None:
    """Run on a terminal, as a person does: the prompt appears and the typed token is not shown."""
    telegram.user_sends("hi")
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(BIN / "jupyter-helpers"), "telegram"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        start_new_session=True,
    )
    os.close(follower)
    seen = b""

    def read_until(marker: bytes, timeout: float = 60) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while marker not in seen and time.monotonic() < deadline:
            if select.select([leader], [], [], 0.5)[0]:
                try:
                    seen += os.read(leader, 4096)
                except OSError:
                    break
        assert marker in seen, seen

    try:
        read_until(b"Bot token from @BotFather (input hidden): ")
        os.write(leader, TOKEN.encode() + b"\n")
        read_until(b"check Telegram")
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    assert TOKEN.encode() not in seen
    assert configparser.ConfigParser(interpolation=None).read(ini) == [str(ini)]


BAD_FILES = {
    "not UTF-8": (b"\xff\xfe[\x00t\x00", "is not UTF-8 text (byte 0); fix or remove it"),
    "no section header (a BOM)": (
        "\ufeff[telegram]\ntoken = old\n".encode(),
        "ntfy cannot read {ini} as it is (File contains no section headers.); fix or remove it",
    ),
    "an indented key": (b"[telegram]\n  token = old\n", "cannot set token, chat_id in {ini} safely"),
    "a value over a blank line": (
        b"[telegram]\ntoken = old\n  a\n\n  b\nchat_id = 5\n",
        "cannot set token, chat_id in {ini} safely",
    ),
    "CR line ends": (b"[telegram]\rtoken = old\r", "cannot set token, chat_id in {ini} safely"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_file_it_cannot_edit_safely_is_one_line_before_anything_goes_to_telegram(
    ini: Path, telegram, case: str
) -> None:
    """Found before the user is sent to the phone (hostile round: after it, or `wrote:` a file ntfy
    then read with a broken token)."""
    content, expected = BAD_FILES[case]
    ini.parent.mkdir(parents=True, exist_ok=True)
    ini.write_bytes(content)
    done = cli("telegram", "--token", TOKEN, "--wait", "2", check=False)
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1, done
    assert done.stderr.startswith("jupyter-helpers: error: ") and expected.format(ini=ini) in done.stderr, done.stderr
    assert ini.read_bytes() == content and telegram.calls == []


@pytest.mark.parametrize("shape", ["a folder", "a dangling link", "a read-only folder"])
def test_a_place_it_cannot_write_is_one_line_before_anything_goes_to_telegram(ini: Path, telegram, shape: str) -> None:
    ini.parent.mkdir(parents=True, exist_ok=True)
    if shape == "a folder":
        ini.mkdir()
    elif shape == "a dangling link":
        ini.symlink_to(ini.parent / "gone" / "telegram.ini")
    else:
        ini.parent.chmod(0o555)
    try:
        done = cli("telegram", "--token", TOKEN, "--wait", "2", check=False)
    finally:
        ini.parent.chmod(0o755)
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1, done
    assert done.stderr.startswith("jupyter-helpers: error: ") and str(ini) in done.stderr, done.stderr
    assert telegram.calls == []


def test_without_a_terminal_the_token_comes_from_stdin_or_one_line_says_how(ini: Path, telegram) -> None:
    """ssh without -t, a script: no terminal to type a hidden token on (was an EOFError traceback)."""
    none = start()
    out, err = none.communicate(timeout=60)
    assert none.returncode == 2 and out == ""
    assert err == (
        "jupyter-helpers: error: no bot token: give it with --token TOKEN, on standard input, or "
        "run this in a terminal to type it hidden\n"
    )
    silent = subprocess.Popen(
        [str(BIN / "jupyter-helpers"), "telegram"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:  # a pipe nobody writes to or closes (`!jupyter-helpers telegram` in a notebook): no endless wait
        assert silent.wait(timeout=30) == 2
        assert silent.stderr is not None and silent.stderr.read().startswith("jupyter-helpers: error: no bot token: ")
    finally:
        silent.kill()
        silent.communicate()
    telegram.user_sends("hi")
    piped = subprocess.run(
        [str(BIN / "jupyter-helpers"), "telegram"], input=TOKEN + "\n", capture_output=True, text=True, timeout=90
    )
    assert piped.returncode == 0 and piped.stderr == "", piped
    assert "Chat: Ada (id 4242)" in piped.stdout and TOKEN not in piped.stdout


def test_a_webhook_on_the_bot_is_named_with_telegrams_own_words(ini: Path, telegram) -> None:
    telegram.mode = "webhook"
    done = cli("telegram", "--token", TOKEN, check=False)
    assert done.returncode == 2 and done.stderr == (
        f"jupyter-helpers: error: Telegram answered getUpdates with HTTP 409: {WEBHOOK_CONFLICT}\n"
    )
    assert not ini.exists()


@pytest.mark.parametrize(
    "before, after",
    [
        ("", "[telegram]\ntoken = T\nchat_id = 1\n"),
        ("[other]\nx = 1", "[other]\nx = 1\n\n[telegram]\ntoken = T\nchat_id = 1\n"),
        ("[telegram]\nTOKEN: old\nchat_id=5\n", "[telegram]\ntoken = T\nchat_id = 1\n"),
        ("[telegram]\n# keep me\n", "[telegram]\n# keep me\ntoken = T\nchat_id = 1\n"),
        (
            "[telegram]\na = 1\n\n; trailing comment\n[next]\n",
            "[telegram]\na = 1\ntoken = T\nchat_id = 1\n\n; trailing comment\n[next]\n",
        ),
    ],
)
def test_ini_keys_are_set_in_place(before: str, after: str) -> None:
    assert set_ini_keys(before, "telegram", {"token": "T", "chat_id": "1"}) == after


def test_a_ntfy_yml_that_sends_elsewhere_is_named_after_the_test_message(ini: Path, telegram) -> None:
    """The test message goes through Telegram, but long runs follow ntfy.yml's `backends:`; a
    newcomer who once tried Pushover must not wait for Telegram messages that never come."""
    yml = ini.parent / "ntfy.yml"
    yml.parent.mkdir(parents=True, exist_ok=True)
    yml.write_text("backends: [pushover]\npushover: {user_key: u123}\n")
    telegram.user_sends("hi")
    done = run_cli("telegram", "--token", TOKEN)
    assert done.stdout.splitlines()[-1] == (
        f"note: {yml} sends long runs through pushover, not Telegram: add telegram to its `backends:` list "
        "to get them here"
    ), done.stdout
