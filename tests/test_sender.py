"""The sender's failure memory and time limit, with real child processes standing in for the
deliver step (a script that succeeds, fails or hangs depending on the message)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from jupyter_helpers.notify.sender import QUEUE_LIMIT, Sender

CHILD = """
import json, sys, time
text = json.load(open(sys.argv[1]))["text"]
if text == "hang":
    time.sleep(30)
if text.startswith("fail"):
    sys.exit(print("warming up", file=sys.stderr) or print(text, file=sys.stderr) or 1)
"""


@pytest.fixture
def sender(tmp_path: Path) -> Sender:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    return Sender([sys.executable, str(script)], timeout=1.5)


def send_all(sender: Sender, texts: list[str]) -> list[str]:
    for text in texts:
        sender.submit(text, "title")
    assert sender.wait_idle(60)
    return sender.take_warnings()


def test_each_kind_of_failure_is_reported_once_and_again_after_a_success(sender: Sender) -> None:
    warnings = send_all(sender, ["fail: bad token", "fail: bad token", "ok", "fail: bad token", "fail: closed port"])
    assert warnings == [
        "jupyter-helpers: notification not sent: fail: bad token",
        "jupyter-helpers: notification not sent: fail: bad token",
        "jupyter-helpers: notification not sent: fail: closed port",
    ]
    assert sender.sent == 1 and sender.last_failure == "fail: closed port"


def test_a_hung_send_is_abandoned_at_the_time_limit(sender: Sender) -> None:
    started = time.monotonic()
    assert send_all(sender, ["hang"]) == ["jupyter-helpers: notification not sent: no answer within 1.5 s "
                                          "(is the service reachable?)"]
    assert time.monotonic() - started < 10


def test_submit_never_waits_and_a_full_queue_drops_with_one_warning(sender: Sender) -> None:
    started = time.monotonic()
    for _ in range(QUEUE_LIMIT + 5):  # faster than any child process can take them
        sender.submit("ok", "title")
    assert time.monotonic() - started < 0.5
    assert sender.take_warnings() == [
        f"jupyter-helpers: notification not sent: {QUEUE_LIMIT} notifications are still waiting to be sent; "
        "dropped a new one"
    ]
    assert sender.wait_idle(60) and sender.sent >= QUEUE_LIMIT


def test_missing_sender_python_says_to_reinstall(tmp_path: Path) -> None:
    sender = Sender([str(tmp_path / "gone" / "python"), "-m", "x"], timeout=5)
    warnings = send_all(sender, ["ok"])
    assert len(warnings) == 1 and "run `jupyter-helpers install` again" in warnings[0]
