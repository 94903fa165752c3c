"""`jupyter-helpers telegram`: the guided setup against the fake Bot API, as a newcomer runs it.

The real command, the real delivery child for the test message, the fake Bot API reached through
HTTPS_PROXY with a test CA (tests/support/fake_telegram.py); the owner tapping the printed link is
played by `user_taps_start`, anyone else's message to the bot by `user_sends`.
"""

from __future__ import annotations

import configparser
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from jupyter_helpers.installer.telegram import carries_code, set_ini_keys

from conftest import BIN, TOKEN, cli, run_cli
from support.fake_telegram import WEBHOOK_CONFLICT, read_start_code
from support.processes import RefusingPort
from support.terminal import pair_on_a_terminal

OTHER_TOKEN = "987654321:BBAnotherFakeTokenForTests_zyxwvut"


@pytest.fixture
def ini(home: Path, telegram) -> Path:
    """No telegram.ini yet (the `telegram` fixture wrote one: a newcomer has none)."""
    path = home / ".config" / "ntfy" / "telegram.ini"
    path.unlink()
    cli("install")
    return path


def start(*args: str, stdin: int | None = subprocess.DEVNULL) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "jupyter-helpers"), "telegram", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=stdin,
        text=True,
    )


def shown_code(process: subprocess.Popen) -> tuple[str, str]:
    """The one-time code the running command shows, and its output so far."""
    assert process.stdout is not None
    code, seen = read_start_code(process.stdout.fileno())
    return code, seen.decode()


def finish(process: subprocess.Popen, before: str) -> tuple[str, str]:
    out, err = process.communicate(timeout=90)
    return before + out, err


def test_guided_setup_pairs_the_chat_that_taps_the_link_writes_the_file_and_sends_a_test(ini: Path, telegram) -> None:
    process = start("--token", TOKEN)
    code, before = shown_code(process)
    telegram.user_taps_start(code, chat_id=4242, first_name="Ada")
    out, err = finish(process, before)
    assert process.returncode == 0, err
    lines = out.splitlines()
    assert lines[:6] == [
        "Bot: @t_bot",
        f"On your phone open https://t.me/t_bot?start={code} and tap Start,",
        f"or send @t_bot this code: {code}",
        "Waiting up to 120 s ...",
        "Chat: Ada (id 4242)",
        f"wrote: {ini} (token, chat_id; readable by you only)",
    ]
    assert lines[6].startswith("sent a test message via telegram in ") and lines[6].endswith(" s: check Telegram")
    assert len(code) >= 6 and re.fullmatch(r"[A-Za-z0-9_-]+", code)
    assert TOKEN not in out + err
    parser = configparser.ConfigParser()
    parser.read(ini)
    assert dict(parser["telegram"]) == {"token": TOKEN, "chat_id": "4242"}
    assert stat.S_IMODE(ini.stat().st_mode) == 0o600
    assert telegram.texts() == ["✅ jupyter-helpers can reach you here: long runs will report to this chat."]
    assert telegram.messages[-1]["chat_id"] == "4242" and telegram.messages[-1]["path"] == f"/bot{TOKEN}/sendMessage"
    assert run_cli("status").returncode == 0


def test_only_the_private_chat_that_sends_the_code_after_the_start_is_paired(ini: Path, telegram) -> None:
    """A bot's name is public (hostile round: a stranger who wrote "hi" 2 minutes before setup, a
    `/start@bot` in a supergroup, a stranger with the owner's first name each got paired)."""
    telegram.user_sends("hi bot", chat_id=666, first_name="Mallory", age=120)
    telegram.user_sends("/start@t_bot", chat_id=-1001234, chat_type="supergroup", age=30)
    process = start("--token", TOKEN)
    code, before = shown_code(process)
    strangers = [
        ("hello from a stranger", 666, "private", 0),  # no code, the owner's first name
        ("/start Zz9_Zz9_", 667, "private", 0),  # another code
        (f"/start {code}", -1001234, "supergroup", 0),  # the code, seen by a group
        (code, -4321, "group", 0),
        (code, -1009999, "channel", 0),
        (f"/start {code}", 668, "private", 600),  # dated before the command started
    ]
    for text, chat_id, chat_type, age in strangers:
        telegram.user_sends(text, chat_id=chat_id, first_name="Ada", chat_type=chat_type, age=age)
    telegram.user_taps_start(code, chat_id=4242, first_name="Ada")
    out, err = finish(process, before)
    assert process.returncode == 0, err
    assert "Chat: Ada (id 4242)" in out.splitlines()
    assert "ignored 5 other messages to @t_bot meanwhile (without the code, or not from a private chat)" in out
    assert "stranger" not in out + err and "Zz9_Zz9_" not in out + err
    assert configparser.ConfigParser().read(ini) and "chat_id = 4242" in ini.read_text()
    assert [message["chat_id"] for message in telegram.messages] == ["4242"]


def test_the_code_alone_pairs_too(ini: Path, telegram) -> None:
    process = start("--token", TOKEN)
    code, before = shown_code(process)
    telegram.user_sends(f" {code}\n", chat_id=77, first_name="Bo")
    out, err = finish(process, before)
    assert process.returncode == 0, err
    assert "Chat: Bo (id 77)" in out and "ignored" not in out


@pytest.mark.parametrize(
    "text, pairs",
    [
        ("/start Ab3_-x9Q", True),  # what tapping the link sends
        ("/start@T_Bot Ab3_-x9Q", True),  # typed, with the bot's name (any case)
        ("Ab3_-x9Q", True),
        ("  Ab3_-x9Q\n", True),
        ("/start", False),
        ("/start ab3_-x9q", False),  # codes are case-sensitive
        ("/start@other_bot Ab3_-x9Q", False),
        ("/startAb3_-x9Q", False),
        ("my code is Ab3_-x9Q", False),
        ("Ab3_-x9Q Ab3_-x9Q", False),
    ],
)
def test_which_texts_carry_the_code(text: str, pairs: bool) -> None:
    assert carries_code(text, "Ab3_-x9Q", "t_bot") is pairs


def test_an_existing_file_keeps_its_other_keys_and_lines(ini: Path, telegram) -> None:
    ini.write_text("# my notes\n[telegram]\ntoken = old\n  continued\nparse_mode = html\n\n[other]\nx = 1\n")
    ini.chmod(0o644)
    setup_by_link(telegram)
    assert ini.read_text() == (
        f"# my notes\n[telegram]\ntoken = {TOKEN}\nparse_mode = html\nchat_id = 4242\n\n[other]\nx = 1\n"
    )
    assert stat.S_IMODE(ini.stat().st_mode) == 0o600


def setup_by_link(telegram, *args: str) -> tuple[subprocess.Popen, str, str]:
    """The whole setup with the token as an argument, the owner tapping the link."""
    process = start("--token", TOKEN, *args)
    code, before = shown_code(process)
    telegram.user_taps_start(code)
    out, err = finish(process, before)
    assert process.returncode == 0, out + err
    return process, out, err


def test_a_crlf_file_keeps_its_line_ends(ini: Path, telegram) -> None:
    """A file from a Windows editor (hostile round: it ended with CRLF and LF lines mixed)."""
    ini.write_bytes(b"# mine\r\n[telegram]\r\ntoken = 999:OLD\r\n\r\n[other]\r\nx = 1")
    setup_by_link(telegram)
    assert ini.read_bytes() == (
        f"# mine\r\n[telegram]\r\ntoken = {TOKEN}\r\nchat_id = 4242\r\n\r\n[other]\r\nx = 1\r\n".encode()
    )


def test_a_hard_linked_file_stays_linked(ini: Path, telegram, home: Path) -> None:
    """Hostile round: the atomic replace left the other name (a backup, a dotfiles checkout)
    holding the old content."""
    ini.parent.mkdir(parents=True, exist_ok=True)
    ini.write_text("[telegram]\n# mine\n")
    other = home / "dotfiles-telegram.ini"
    os.link(ini, other)
    setup_by_link(telegram)
    assert os.path.samefile(ini, other) and ini.stat().st_nlink == 2
    assert other.read_text() == f"[telegram]\n# mine\ntoken = {TOKEN}\nchat_id = 4242\n"
    assert stat.S_IMODE(other.stat().st_mode) == 0o600
    assert not [path.name for path in ini.parent.iterdir() if path.name.endswith(".tmp")]


def test_a_rejected_token_is_one_line_and_writes_nothing(ini: Path, telegram) -> None:
    telegram.mode = "unauthorized"
    done = cli("telegram", "--token", OTHER_TOKEN, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "jupyter-helpers: error: Telegram rejected the bot token (getMe: HTTP 401); copy it again from @BotFather\n"
    )
    assert OTHER_TOKEN not in done.stderr and not ini.exists()


def test_no_code_within_the_wait_is_one_line_that_counts_the_others_and_writes_nothing(ini: Path, telegram) -> None:
    process = start("--token", TOKEN, "--wait", "4")
    code, before = shown_code(process)
    telegram.user_sends("hi")  # the owner, who typed something else
    telegram.user_sends(f"/start {code}", chat_id=-1001234, chat_type="supergroup")
    out, err = finish(process, before)
    assert process.returncode == 2 and out.splitlines()[-1] == "Waiting up to 4 s ...", out
    assert err == (
        "jupyter-helpers: error: no message with the code reached @t_bot within 4 s (2 other messages "
        "ignored); run this again and open its new link on your phone (or give more time: --wait 300)\n"
    )
    assert not ini.exists() and telegram.texts() == []


def test_no_network_is_one_line(ini: Path, telegram, monkeypatch: pytest.MonkeyPatch) -> None:
    closed = RefusingPort()
    monkeypatch.setenv("HTTPS_PROXY", closed.url)
    monkeypatch.setenv("https_proxy", closed.url)
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
    seen, _ = pair_on_a_terminal(BIN / "jupyter-helpers", TOKEN, telegram)
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


@pytest.mark.parametrize("shape", ["a folder", "a dangling link", "a read-only folder", "a read-only file", "a FIFO"])
def test_a_place_it_cannot_write_is_one_line_before_anything_goes_to_telegram(ini: Path, telegram, shape: str) -> None:
    """A read-only file too, even for root, who could replace it (hostile round: it was)."""
    ini.parent.mkdir(parents=True, exist_ok=True)
    if shape == "a folder":
        ini.mkdir()
    elif shape == "a dangling link":
        ini.symlink_to(ini.parent / "gone" / "telegram.ini")
    elif shape == "a read-only folder":
        ini.parent.chmod(0o555)
    elif shape == "a FIFO":  # a secrets tool's named pipe: reading it waited forever (hostile round)
        os.mkfifo(ini)
    else:
        ini.write_text("[telegram]\nchat_id = 1\n")
        ini.chmod(0o400)
    try:
        done = cli("telegram", "--token", TOKEN, "--wait", "2", check=False)
    finally:
        ini.parent.chmod(0o755)
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1, done
    assert done.stderr.startswith("jupyter-helpers: error: ") and str(ini) in done.stderr, done.stderr
    assert telegram.calls == []
    if shape == "a read-only file":
        assert done.stderr == (
            f"jupyter-helpers: error: cannot write {ini}: it is read-only (mode 0400); make it writable "
            f"(chmod u+w {ini}) or move it away, and retry\n"
        )
        assert ini.read_text() == "[telegram]\nchat_id = 1\n" and stat.S_IMODE(ini.stat().st_mode) == 0o400


def test_without_a_terminal_the_token_comes_from_stdin_or_one_line_says_how(ini: Path, telegram) -> None:
    """ssh without -t, a script: no terminal to type a hidden token on (was an EOFError traceback)."""
    none = start()
    out, err = none.communicate(timeout=60)
    assert none.returncode == 2 and out == ""
    assert err == (
        "jupyter-helpers: error: no bot token: pipe it in (e.g. `pass show my-bot | jupyter-helpers "
        "telegram --token -`), or run this in a terminal to type it hidden\n"
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
    out, err = setup_through_a_pipe(telegram)
    assert "Chat: Ada (id 4242)" in out and TOKEN not in out + err


def setup_through_a_pipe(telegram, *args: str) -> tuple[str, str]:
    process = start(*args, stdin=subprocess.PIPE)
    assert process.stdin is not None
    process.stdin.write(TOKEN + "\n")
    process.stdin.flush()
    code, before = shown_code(process)
    telegram.user_taps_start(code)
    out, err = finish(process, before)
    assert process.returncode == 0 and err == "", out + err
    return out, err


def test_token_dash_reads_it_from_standard_input_and_keeps_it_out_of_ps(ini: Path, telegram) -> None:
    """`--token TOKEN` shows the token to every user's `ps` for the whole wait (hostile round)."""
    process = start("--token", "-", stdin=subprocess.PIPE)
    assert process.stdin is not None
    process.stdin.write(TOKEN + "\n")
    process.stdin.flush()
    code, before = shown_code(process)
    command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes()
    assert b"\0--token\0-\0" in command_line and TOKEN.encode() not in command_line
    telegram.user_taps_start(code)
    out, err = finish(process, before)
    assert process.returncode == 0 and "Chat: Ada (id 4242)" in out and TOKEN not in out + err, out + err
    assert f"token = {TOKEN}" in ini.read_text()


def test_a_webhook_on_the_bot_is_named_with_telegrams_own_words(ini: Path, telegram) -> None:
    telegram.mode = "webhook"
    done = cli("telegram", "--token", TOKEN, check=False)
    assert done.returncode == 2 and done.stderr == (
        f"jupyter-helpers: error: Telegram answered getUpdates with HTTP 409: {WEBHOOK_CONFLICT}\n"
    )
    assert not ini.exists()


def test_an_answer_cut_short_is_one_line(ini: Path, telegram) -> None:
    """A getUpdates answer that ends before its Content-Length (hostile round: a traceback)."""
    telegram.mode = "cut-short"
    done = cli("telegram", "--token", TOKEN, "--wait", "20", check=False)
    assert done.returncode == 2 and done.stderr == (
        "jupyter-helpers: error: Telegram's answer to getUpdates was cut short (IncompleteRead); try again\n"
    ), done.stderr
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
        ("[telegram]\r\ntoken = old\r\n", "[telegram]\r\ntoken = T\r\nchat_id = 1\r\n"),
        ("[other]\r\nx = 1", "[other]\r\nx = 1\r\n\r\n[telegram]\r\ntoken = T\r\nchat_id = 1\r\n"),
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
    _, out, _ = setup_by_link(telegram)
    assert out.splitlines()[-1] == (
        f"note: {yml} sends long runs through pushover, not Telegram: add telegram to its `backends:` list "
        "to get them here"
    ), out
