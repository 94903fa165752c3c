"""Sends messages off the kernel thread, each in a child process with a hard time limit.

Why a child process: ntfy's Telegram backend calls `asyncio.run()`, which fails inside a kernel's
running event loop; a hung server would block for ~30 s; and the kernel's environment may not have
ntfy at all. The child is the Python that `jupyter-helpers install` recorded, running
`jupyter_helpers.notify.deliver` on a private temp file holding the message: written before the
child starts, so a kernel that exits right after a cell cannot leave the child without its
message. The kernel thread only enqueues: it never waits.
"""

from __future__ import annotations

import base64
import json
import os
import queue
import subprocess
import tempfile
import threading
from collections import deque

QUEUE_LIMIT = 20


class Sender:
    """A bounded queue drained by one daemon thread, with a memory of the last failure so that a
    broken channel is reported once per new kind of failure, not once per cell."""

    def __init__(self, command: list[str], timeout: float) -> None:
        self.command = command
        self.timeout = timeout
        self._queue: queue.Queue[bytes] = queue.Queue(QUEUE_LIMIT)
        self._warnings: deque[str] = deque()
        self._last_failure: str | None = None
        self._worker: threading.Thread | None = None
        self.sent = 0

    def submit(self, text: str, title: str, backend: str = "", *, image: bytes | None = None,
               report: bool = False) -> None:
        """`image`: PNG/JPEG bytes to send as a photo with `text` as its caption (Telegram only;
        other backends get the text). `report`: also tell the kernel thread when it was sent
        (%notify, which the user asked for, reports its outcome; autonotify reports failures only)."""
        payload = json.dumps({"text": text, "title": title, "backend": backend,
                              "image": base64.b64encode(image).decode() if image else None,
                              "report": report}).encode()
        if self._worker is None:
            self._worker = threading.Thread(target=self._drain, name="jupyter-helpers-sender", daemon=True)
            self._worker.start()
        try:
            self._queue.put_nowait(payload)
        except queue.Full:
            self._remember(f"{QUEUE_LIMIT} notifications are still waiting to be sent; dropped a new one")

    def has_warnings(self) -> bool:
        return bool(self._warnings)

    def take_warnings(self) -> list[str]:
        """Warnings for the kernel thread to print (the worker never writes to the notebook)."""
        taken = []
        while self._warnings:
            taken.append(self._warnings.popleft())
        return taken

    @property
    def last_failure(self) -> str | None:
        return self._last_failure

    def wait_idle(self, timeout: float) -> bool:
        """True once everything queued so far was handled (tests and benchmarks wait on it)."""
        done = threading.Event()
        waiter = threading.Thread(target=lambda: (self._queue.join(), done.set()), daemon=True)
        waiter.start()
        return done.wait(timeout)

    def hand_off_pending(self) -> None:
        """At kernel exit: start a detached child for every message still queued, without waiting.

        Children run in their own session, so the kernel's shutdown (which may kill its process
        group) does not take them along, and a notebook run by nbconvert or papermill still
        reports its last cells."""
        while True:
            try:
                payload = self._queue.get_nowait()
            except queue.Empty:
                return
            try:
                subprocess.Popen(
                    [*self.command, _message_file(payload)], stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                )
            except OSError:
                pass  # exiting: nowhere left to report it

    def _drain(self) -> None:
        while True:
            payload = self._queue.get()
            try:
                self._remember(self._deliver(payload))
            finally:
                self._queue.task_done()

    def _deliver(self, payload: bytes) -> str | None:
        message_file = _message_file(payload)
        try:
            done = subprocess.run(
                [*self.command, message_file], stdin=subprocess.DEVNULL, capture_output=True,
                timeout=self.timeout, check=False, start_new_session=True,
            )
        except subprocess.TimeoutExpired:
            return f"no answer within {self.timeout:g} s (is the service reachable?)"
        except OSError as exc:
            return f"cannot run {self.command[0]} ({exc.strerror}); run `jupyter-helpers install` again"
        finally:
            _remove(message_file)  # the child removes it once read; this covers a child that never ran
        if done.returncode == 0:
            return None
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"the sender exited with code {done.returncode}"

    def _remember(self, failure: str | None) -> None:
        if failure is None:
            self.sent += 1
        elif failure != self._last_failure:
            self._warnings.append(f"jupyter-helpers: notification not sent: {failure}")
        self._last_failure = failure


def _message_file(payload: bytes) -> str:
    """A file only this user can read (mkstemp: 0600): message text stays out of `ps`."""
    fd, path = tempfile.mkstemp(prefix="jupyter-helpers-", suffix=".json")
    with os.fdopen(fd, "wb") as handle:
        handle.write(payload)
    return path


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
