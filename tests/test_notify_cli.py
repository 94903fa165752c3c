"""`jupyter-helpers notify TEXT`: the real console script sending through the same child and
deliver code as kernels, to the fake Bot API."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN, TOKEN, run_cli

SENT = re.compile(r"sent via telegram in \d+\.\d s\n")


def assert_no_token(done) -> None:
    output = done.stdout + done.stderr
    assert TOKEN not in output and TOKEN.split(":")[1] not in output


def test_notify_sends_now_and_says_how_long_it_took(home: Path, telegram) -> None:
    run_cli("install")
    done = run_cli("notify", "training done")
    assert SENT.fullmatch(done.stdout), done.stdout
    assert done.stderr == ""
    assert telegram.texts() == ["training done"]
    assert_no_token(done)


def test_notify_works_without_an_installed_profile(home: Path, telegram) -> None:
    done = run_cli("notify", "from a shell script")
    assert SENT.fullmatch(done.stdout) and telegram.texts() == ["from a shell script"]


@pytest.mark.parametrize(
    "mode, reason",
    [
        ("unauthorized", "Telegram rejected the bot token (check `token` in telegram.ini)"),
        ("hang", "no answer within 3 s (is the service reachable?)"),
    ],
)
def test_notify_failure_is_one_line_on_stderr_and_exit_1(home: Path, telegram, mode: str, reason: str) -> None:
    telegram.mode = mode
    started = time.monotonic()
    done = run_cli("notify", "x", "--timeout", "3", check=False)
    assert time.monotonic() - started < 3 + 15
    assert (done.returncode, done.stdout, done.stderr) == (1, "", f"jupyter-helpers: not sent: {reason}\n")
    assert_no_token(done)


def test_notify_without_credentials_says_how_to_set_them_up(home: Path, telegram) -> None:
    (home / ".config" / "ntfy" / "telegram.ini").unlink()
    done = run_cli("notify", "x", check=False)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.startswith("jupyter-helpers: not sent: Telegram credentials missing (token, chat_id)")
    assert done.stderr.count("\n") == 1 and "telegram.ini" in done.stderr


def test_notify_through_another_backend(home: Path, telegram, tmp_path: Path) -> None:
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "recorder_backend.py").write_text(
        "import os\ndef notify(title, message, retcode=None):\n"
        "    open(os.environ['RECORDER_FILE'], 'a').write(message)\n"
    )
    env = {**__import__("os").environ, "PYTHONPATH": str(modules), "RECORDER_FILE": str(tmp_path / "got")}
    done = run_cli("notify", "hello", "--backend", "recorder_backend", env=env)
    assert re.fullmatch(r"sent via recorder_backend in \d+\.\d s\n", done.stdout)
    assert (tmp_path / "got").read_text() == "hello" and telegram.texts() == []


@pytest.mark.parametrize("text", ["  ", "\x1b[0m\u200b"])
def test_notify_with_nothing_to_say_is_a_usage_error(home: Path, telegram, text: str) -> None:
    done = run_cli("notify", text, check=False)
    assert done.returncode == 2
    assert done.stderr == (
        "jupyter-helpers: error: nothing to send: give the text, e.g. `jupyter-helpers notify 'training done'`\n"
    )
    assert telegram.texts() == []


def test_notify_text_is_cleaned_like_every_message(home: Path, telegram) -> None:
    """Terminal escapes, an OSC 8 link, bidi overrides and zero-width characters never reach the
    phone, whoever sends the message (issue 16, F3)."""
    run_cli("notify", "done \x1b]8;;http://evil\x07click\x1b]8;;\x07 \x1b[31mred\x1b[0m \u202eevil\u202c zw\u200bx")
    assert telegram.texts() == ["done click red evil zwx"]


def test_a_long_notify_text_arrives_as_one_message_cut_to_telegrams_limit(home: Path, telegram) -> None:
    run_cli("notify", "B" * 10_000)  # returns once every request telegram-send made was answered
    assert len(telegram.texts()) == 1, [len(text) for text in telegram.texts()]
    assert telegram.texts()[0] == "B" * 4095 + "…"


def test_a_non_utf8_argument_is_sent_with_a_replacement_character(home: Path, telegram) -> None:
    """A shell script passing a log line with a stray byte: sent, not refused; nothing raw reaches
    the terminal either."""
    done = subprocess.run(
        [str(BIN / "jupyter-helpers").encode(), b"notify", b"log line \xff\x1b[31mred"],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert b"\x1b" not in done.stdout + done.stderr
    assert telegram.texts() == ["log line \ufffdred"]


@pytest.mark.parametrize("xdg", ["", "relative/config"])
def test_an_empty_or_relative_xdg_config_home_reads_home_config_like_status(
    home: Path, telegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, xdg: str
) -> None:
    """The XDG spec ignores such values; ntfy's appdirs would read ./ntfy from wherever it runs,
    while status checked ~/.config/ntfy and said ok (hostile round)."""
    run_cli("install")
    monkeypatch.setenv("XDG_CONFIG_HOME", xdg)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert run_cli("status", cwd=elsewhere).returncode == 0
    done = run_cli("notify", "found the token", cwd=elsewhere, check=False)
    assert done.returncode == 0 and SENT.fullmatch(done.stdout), done
    assert telegram.texts() == ["found the token"] and list(elsewhere.iterdir()) == []
