"""Delivery through real parts: the Sender and its warm child (`python -P -m
jupyter_helpers.delivery`) sending through the real ntfy -> telegram-send ->
python-telegram-bot -> httpx chain to the fake Bot API."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from jupyter_helpers.common.sender import Sender
from jupyter_helpers.common.text import PHOTO_LIMIT, utf16_length
from jupyter_helpers.delivery.send import CAPTION_LIMIT, photo_plan

from conftest import DELIVERY as COMMAND
from conftest import TOKEN
from support.images import png


def finish(sender: Sender) -> list[str]:
    assert sender.wait_idle(90)
    return sender.take_warnings()


def test_one_warm_child_delivers_message_after_message(sender: Sender, telegram) -> None:
    sender.submit("first", "t")
    assert finish(sender) == []
    child = sender.child_pid
    sender.submit("second", "t", report=True)
    warnings = finish(sender)
    assert sender.child_pid == child  # the same process, ntfy already imported
    assert telegram.texts() == ["first", "second"]
    assert len(warnings) == 1 and warnings[0].startswith("jupyter-helpers: %notify sent via telegram in ")
    assert all(message["path"] == f"/bot{TOKEN}/sendMessage" for message in telegram.messages)


def test_a_hung_telegram_is_abandoned_at_the_limit_and_the_next_message_arrives(telegram) -> None:
    sender = Sender(COMMAND, timeout=4)
    sender.submit("warm up", "t")
    assert finish(sender) == []
    hung_child = sender.child_pid
    telegram.mode = "hang"
    started = time.monotonic()
    sender.submit("lost in the hang", "t")
    assert time.monotonic() - started < 1  # the caller never waits for the 4 s the send hangs
    warnings = finish(sender)
    assert 4 <= time.monotonic() - started < 4 + 10
    assert warnings == ["jupyter-helpers: notification not sent: no answer within 4 s (is the service reachable?)"]
    assert not Path(f"/proc/{hung_child}").exists()  # killed and reaped
    telegram.mode = "ok"
    sender.submit("after the hang", "t")
    assert finish(sender) == []
    assert telegram.texts() == ["warm up", "after the hang"] and sender.last_failure is None
    sender.close()


def test_a_picture_arrives_as_a_photo_with_the_exact_bytes_and_the_text_as_caption(sender: Sender, telegram) -> None:
    image = png()
    text = "✅ analysis.ipynb: cells [2]–[5] finished after 2 min 03 s\nHost: box"
    sender.submit(text, "t", image=image)
    assert finish(sender) == []
    assert telegram.methods() == ["sendPhoto"]
    photo = telegram.photos()[0]
    assert photo["photo"] == image and photo["caption"] == text
    assert photo["path"] == f"/bot{TOKEN}/sendPhoto" and photo["chat_id"] == "4242"


def test_a_jpeg_goes_out_unchanged_too(sender: Sender, telegram) -> None:
    image = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"
    sender.submit("jpeg", "t", image=image)
    assert finish(sender) == []
    assert telegram.photos()[0]["photo"] == image


def test_a_text_too_long_for_a_caption_follows_the_photo_in_order(sender: Sender, telegram) -> None:
    image = png()
    text = "❌ analysis.ipynb: cell [3] failed after 1 min 10 s\n" + "Error: " + "x" * 2000
    sender.submit(text, "t", image=image)
    sender.submit("next message", "t")
    assert finish(sender) == []
    assert telegram.methods() == ["sendPhoto", "sendMessage", "sendMessage"]
    assert telegram.photos()[0]["caption"] == text.splitlines()[0] and telegram.photos()[0]["photo"] == image
    assert telegram.texts() == [text, "next message"]


def test_a_picture_over_telegrams_limit_is_left_out_with_a_note(sender: Sender, telegram) -> None:
    sender.submit("✅ big plot", "t", image=png() + bytes(PHOTO_LIMIT))
    assert finish(sender) == []
    assert telegram.photos() == []
    assert telegram.texts() == ["✅ big plot\n(picture left out: 10.0 MB is over Telegram's 10 MB photo limit)"]


def test_other_backends_get_the_text_alone(sender: Sender, telegram, recorder: Path) -> None:
    (Path.home() / ".config" / "ntfy" / "ntfy.yml").write_text("backends: [recorder_backend, telegram]\n")
    sender.submit("✅ with a plot", "the title", image=png(), report=True)
    warnings = finish(sender)
    assert recorder.read_text() == "the title|✅ with a plot\n===\n"
    assert telegram.methods() == ["sendPhoto"] and telegram.photos()[0]["caption"] == "✅ with a plot"
    assert warnings[0].startswith("jupyter-helpers: %notify sent via recorder_backend, telegram in ")


def test_a_rejected_token_is_one_line_without_the_token(sender: Sender, telegram) -> None:
    telegram.mode = "unauthorized"
    sender.submit("x", "t", image=png())
    sender.submit("y", "t")
    warnings = finish(sender)
    assert warnings == [
        "jupyter-helpers: notification not sent: Telegram rejected the bot token (check `token` in telegram.ini)"
    ]
    assert TOKEN.split(":")[1] not in "".join(warnings)


def test_caption_limits_count_utf16_code_units_like_telegram() -> None:
    fits = "🎉" * (CAPTION_LIMIT // 2)
    assert utf16_length(fits) == CAPTION_LIMIT and photo_plan(fits) == (fits, None)
    too_long = "🎉" * (CAPTION_LIMIT // 2 + 1)
    caption, follow_up = photo_plan(too_long)
    assert follow_up == too_long and utf16_length(caption) <= CAPTION_LIMIT and caption.endswith("…")
    assert caption.rstrip("…") == "🎉" * len(caption.rstrip("…"))  # never half an emoji


EXITING_PROCESS = """
import atexit, sys
from jupyter_helpers.common.sender import Sender
sender = Sender({command!r}, timeout=20)
atexit.register(sender.hand_off_pending)
for i in range({count}):
    sender.submit(f"queued {{i}}", "t")
"""  # exits at once: the first message is with the warm child (starting), the rest are queued


def test_a_process_exiting_right_after_submitting_still_delivers_everything(telegram, tmp_path: Path) -> None:
    script = tmp_path / "exiting.py"
    script.write_text(EXITING_PROCESS.format(command=COMMAND, count=4))
    started = time.monotonic()
    subprocess.run([sys.executable, str(script)], check=True, timeout=60)
    assert time.monotonic() - started < 15  # exiting never waits for the sends
    texts = telegram.wait_for(4, timeout=60)
    assert sorted(texts) == [f"queued {i}" for i in range(4)]


KILLED_PROCESS = """
import os, signal, sys, time
from jupyter_helpers.common.sender import Sender
sender = Sender({command!r}, timeout=20)
sender.submit("before the kill", "t")
assert sender.wait_idle(60)
pids = [sender.child_pid]
if {fork}:  # a forked process (multiprocessing, say) inherits the pipe to the child: no EOF for it
    forked = os.fork()
    if forked == 0:
        time.sleep(60)
        os._exit(0)
    pids.append(forked)
open({pids_file!r}, "w").write(" ".join(map(str, pids)))
os.kill(os.getpid(), signal.SIGKILL)  # no atexit, no goodbye
"""


def running(pid: int) -> bool:
    try:
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False


@pytest.mark.parametrize("fork", [False, True], ids=["killed", "killed-with-a-forked-process-alive"])
def test_the_warm_child_ends_when_its_kernel_is_killed(telegram, tmp_path: Path, fork: bool) -> None:
    script, pids_file = tmp_path / "killed.py", tmp_path / "pids"
    script.write_text(KILLED_PROCESS.format(command=COMMAND, fork=fork, pids_file=str(pids_file)))
    subprocess.run([sys.executable, str(script)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    child, *forked = map(int, pids_file.read_text().split())
    killed = time.monotonic()
    try:
        while running(child) and time.monotonic() - killed < 30:
            time.sleep(0.1)
        assert not running(child)
        assert time.monotonic() - killed < 5 + 5  # EOF at once; with the pipe inherited, the parent check
        assert telegram.texts() == ["before the kill"]
    finally:
        for pid in forked:
            os.kill(pid, signal.SIGKILL)


def signals_came_before_setsid() -> None:
    """In the forked child, before exec: SIGINT and SIGTERM arrive while blocked, as they do for
    a child that Jupyter's shutdown reaches in the moment before it has a session of its own."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    os.kill(os.getpid(), signal.SIGINT)
    os.kill(os.getpid(), signal.SIGTERM)


def test_a_delivery_child_drops_the_signals_meant_for_its_kernel_and_obeys_its_own(telegram) -> None:
    """Children start with SIGINT and SIGTERM blocked (common/child.py), so the ones Jupyter sends
    the kernel's process group in the moment before the child's setsid() stay pending: the child
    drops them, delivers, and a SIGTERM sent to the child itself afterwards ends it as usual."""
    child = subprocess.Popen(
        COMMAND,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=signals_came_before_setsid,
    )
    try:
        assert child.stdin is not None and child.stdout is not None
        request = {"text": "after the signals", "title": "t", "backend": "", "image": None, "limit": 20}
        child.stdin.write(json.dumps(request).encode() + b"\n")
        child.stdin.flush()
        assert json.loads(child.stdout.readline()) == {"ok": True, "via": "telegram"}
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=30) == -signal.SIGTERM
    finally:
        child.kill()
        child.wait()
    assert telegram.texts() == ["after the signals"]


def test_a_429_is_waited_out_and_the_message_still_arrives(sender: Sender, telegram) -> None:
    """ntfy's Telegram backend does not retry: a run's final ✅ refused with 429 was lost."""
    sender.submit("warm up", "t")
    assert finish(sender) == []
    telegram.refuse_next("sendMessage", 2)
    sender.submit("✅ finished", "t", report=True)
    warnings = finish(sender)
    assert telegram.texts() == ["warm up", "✅ finished"], (telegram.texts(), warnings)
    (refused_at,) = [at for method, at in telegram.refused if method == "sendMessage"]
    assert telegram.messages[-1]["at"] - refused_at >= 2  # waited as Telegram asked


def test_a_429_longer_than_the_time_limit_fails_at_once_with_its_reason(telegram) -> None:
    sender = Sender(COMMAND, timeout=6)
    telegram.refuse_next("sendMessage", 60)
    started = time.monotonic()
    sender.submit("✅ finished", "t")
    warnings = finish(sender)
    assert time.monotonic() - started < 6, warnings  # answered, not killed at the limit
    assert len(warnings) == 1 and "RetryAfter" in warnings[0], warnings
    assert telegram.texts() == []
    sender.close()
