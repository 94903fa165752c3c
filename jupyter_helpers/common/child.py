"""The delivery child seen from the kernel: start it, ask it one thing at a time, kill it when late.

The child is `python -P -m jupyter_helpers.delivery` run by the Python recorded at install
time (it has ntfy even when the kernel's environment does not). It runs in its own session, so a
kernel shutdown that kills its process group leaves a send in flight alone; the child bounds
itself with an alarm. Standard library only, imported lazily: this runs inside kernels.

A child joins a session of its own only when it calls setsid(), a moment after fork, and until
then it is in the kernel's process group. Jupyter begins every kernel shutdown with SIGINT to that
group (SIGTERM follows when the kernel is slow to stop): on a busy machine that SIGINT killed a
child started a moment before, with the message it was given (1 in 10 kernels at load 4). So
children start with those signals blocked (the mask is inherited and kept across exec): the ones
meant for the kernel stay pending, and the child drops them once it has its own session
(`GROUP_SIGNALS`, delivery/__main__.py).
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import NoReturn

from . import installation
from .delivery_protocol import Reply, decode_reply

CHILD_MODULE = "jupyter_helpers.delivery"
GROUP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})  # what Jupyter sends a kernel's process group


def child_command(profile_location: Path) -> list[str]:
    """The Python recorded by `jupyter-helpers install` in this profile (it has ntfy), else ours."""
    record = installation.load(Path(profile_location))
    python = record.python if record else sys.executable
    return [python, "-P", "-m", CHILD_MODULE]


class ChildFailed(Exception):
    """The child did not answer; `str()` is the one-line reason for the user."""


def start_child(command: list[str], replies: int) -> subprocess.Popen:
    """A child in a session of its own, reading requests on a pipe and answering on `replies`
    (a pipe or DEVNULL); it is born with GROUP_SIGNALS blocked (see the module's docstring).
    The mask is the calling thread's own, restored at once; a signal that comes meanwhile is
    delivered then."""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, GROUP_SIGNALS)
    try:
        return subprocess.Popen(command, stdin=subprocess.PIPE, stdout=replies, stderr=replies, start_new_session=True)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def _ready(fd: int, event: int, seconds: float) -> bool:
    """poll(), not select(): a kernel with over 1024 open files gets pipes select() cannot take."""
    poller = select.poll()
    poller.register(fd, event)
    return bool(poller.poll(seconds * 1000))


def _write_all(fd: int, data: bytes, deadline: float) -> bool:
    """Writes without ever blocking past `deadline`; False when the reader is gone or too slow."""
    os.set_blocking(fd, False)
    view = memoryview(data)
    while view:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not _ready(fd, select.POLLOUT, remaining):
            return False
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            continue
        except OSError:  # BrokenPipeError: the child is gone
            return False
    return True


class WarmChild:
    """One long-lived child: request lines in, reply lines out (common/delivery_protocol.py), one
    request at a time."""

    def __init__(self, command: list[str]) -> None:
        try:
            self.process = start_child(command, subprocess.PIPE)
        except OSError as exc:
            reason = f"cannot run {command[0]} ({exc.strerror}); run `jupyter-helpers install` again"
            raise ChildFailed(reason) from None
        self._replies = b""

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def send(self, line: bytes, deadline: float, timeout: float) -> None:
        """Hands one request to the child; raises ChildFailed (and kills it) when it cannot take
        it by `deadline` (`timeout` seconds after the send began) or is gone."""
        assert self.process.stdin is not None
        if not _write_all(self.process.stdin.fileno(), line + b"\n", deadline):
            self._failed(deadline, timeout)

    def receive(self, deadline: float, timeout: float) -> Reply:
        """The reply to the request sent last; raises ChildFailed (and kills the child) when it
        does not answer by `deadline` or dies."""
        assert self.process.stdout is not None
        reply_fd = self.process.stdout.fileno()
        while b"\n" not in self._replies:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not _ready(reply_fd, select.POLLIN, remaining):
                self._failed(deadline, timeout)
            chunk = os.read(reply_fd, 65536)
            if not chunk:
                self._failed(deadline, timeout)
            self._replies += chunk
        reply, self._replies = self._replies.split(b"\n", 1)
        return decode_reply(reply)

    def _failed(self, deadline: float, timeout: float) -> NoReturn:
        late = time.monotonic() >= deadline and self.alive()
        self.kill()
        if late:
            raise ChildFailed(f"no answer within {timeout:g} s (is the service reachable?)")
        raise ChildFailed(self._death_reason())

    def _death_reason(self) -> str:
        code = self.process.returncode
        if code is not None and code < 0:
            return f"the sender was stopped by signal {signal.Signals(-code).name}"
        stderr = b""
        if self.process.stderr is not None:
            os.set_blocking(self.process.stderr.fileno(), False)
            try:
                stderr = self.process.stderr.read() or b""
            except OSError:
                pass
        lines = stderr.decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"the sender exited with code {code}"

    def close(self) -> None:
        """Ends the input: the child finishes what it has and exits (bounded by its own alarm)."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            try:
                self.process.stdin.close()
            except OSError:
                pass

    def stop(self, grace: float) -> None:
        """Closes the input and reaps the child, killing it after `grace` seconds."""
        self.close()
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # its own session: the group is the child
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except OSError:
                    pass


def hand_off(command: list[str], lines: list[bytes], budget: float) -> None:
    """At kernel exit: one detached child per request, each bounded by its own alarm; nobody waits
    for them. Writing all requests takes at most `budget` seconds (children start in parallel)."""
    started = []
    for line in lines:
        try:
            process = start_child(command, subprocess.DEVNULL)
        except OSError:
            continue  # exiting: nowhere left to report it
        started.append((process, line))
    deadline = time.monotonic() + budget
    for process, line in started:
        assert process.stdin is not None
        _write_all(process.stdin.fileno(), line + b"\n", deadline)
        try:
            process.stdin.close()
        except OSError:
            pass
