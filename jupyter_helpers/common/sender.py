"""Sends messages off the kernel thread through one warm child process with a hard time limit.

Why a child process: ntfy's Telegram backend calls `asyncio.run()`, which fails inside a kernel's
running event loop; a hung server would block for ~30 s; and the kernel's environment may not have
ntfy at all. Why a warm one: a fresh Python per message costs ~0.3 s CPU and latency. The child
starts when a message is near (`warm`: a run crossed its threshold) or with the first message
(kernels that never notify pay nothing), is killed and replaced when a send outlives the limit,
and is let go after some idle minutes. The kernel thread only
enqueues: it never waits, and nothing the worker meets ends it.

One lock discipline: `_changed` (a condition over a re-entrant lock) guards everything the threads
share: the queue, the worker thread (checked and started only under it, so `warm()` on the closing
thread and `submit()` on the kernel thread can never start two workers, which would read each
other's replies from the one child), `_closed`, `_in_hand`, the time limit and the memory of
outcomes. The worker is the only thread that writes requests to the child and reads its replies
(the exit hand-off and `close` only end its input). `_handing`, taken before `_changed` and never
after it, is held by the worker from taking a message until the child has it, so that the exit
hand-off knows whether a message is the child's or still its own.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, NamedTuple

QUEUE_LIMIT = 20
DEFAULT_TIMEOUT = 30.0
MAX_TIMEOUT = 3600.0
# A warm child holds ~55 MB of memory (RSS): let it go when nobody sends. The variable is for
# benchmarks/run.py's memory row, which would otherwise wait 5 minutes.
IDLE_SECONDS = float(os.environ.get("JUPYTER_HELPERS_SENDER_IDLE") or 5 * 60.0)
# At kernel exit, seconds to wait for the worker to finish handing a message to the warm child, and
# to hand the queued ones to children of their own (only a photo can fill a pipe and make a write
# wait): jupyter_client sends SIGTERM 2.5 s after asking a kernel to stop (shutdown_wait_time / 2).
HANDOFF_WAIT = 0.5
HANDOFF_BUDGET = 1.5
# An edit or delete of a live message may take at most this long (or send_timeout, if shorter): a
# final message queued behind one never waits longer (regular messages go before queued edits).
LIVE_LIMIT = 10.0
# The silent send that starts a live message may take longer: its id cannot be learnt later, and a
# send whose outcome is unknown is not repeated (kernel/live.py), so a slow Telegram would cost
# the run its live message. It comes `live` seconds into a run, rarely just before its end.
FIRST_LIVE_LIMIT = 20.0


def usable_timeout(value: Any) -> float:
    """Any configured value as a time limit a thread can wait on: inf, nan, 0 and non-numbers
    become the default, huge values are capped (1e300 s would overflow a wait)."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT
    if not math.isfinite(seconds) or seconds <= 0:
        return DEFAULT_TIMEOUT
    return min(seconds, MAX_TIMEOUT)


class Outcome(NamedTuple):
    """What happened to one message: sent `via` some backends in `seconds`, or the `reason`."""

    ok: bool
    seconds: float
    via: str = ""
    reason: str = ""
    reply: Any = None  # the child's delivery_protocol.Reply, when it answered


class _Message:
    """One submitted message (a plain class: building dataclasses would cost kernels ~2 ms at start)."""

    __slots__ = (
        "text",
        "title",
        "backend",
        "image",
        "report",
        "submitted",
        "verb",
        "message_id",
        "silent",
        "on_reply",
        "not_before",
        "orphaned",
    )

    def __init__(self, text: str, title: str, backend: str, image: bytes | None, report: bool) -> None:
        self.text, self.title, self.backend, self.image, self.report = text, title, backend, image, report
        self.submitted = time.monotonic()
        self.verb, self.silent = "send", False
        self.message_id: int | None = None
        self.on_reply: Callable[[Outcome], None] | None = None  # a live message's: told every outcome
        self.not_before = 0.0  # monotonic: a live step Telegram asked to hold (429) waits until then
        self.orphaned = ""  # a silent send: its text if the kernel is gone when Telegram answers

    def request_line(self, limit: float) -> bytes:
        import base64

        from .delivery_protocol import Request

        image = base64.b64encode(self.image).decode() if self.image is not None else None
        if self.on_reply is not None:
            limit = min(limit, FIRST_LIVE_LIMIT if self.verb == "send" else LIVE_LIMIT)
        wait = max(0.0, self.not_before - time.monotonic())
        return Request(
            self.verb,
            self.text,
            self.title,
            self.backend,
            image,
            limit,
            self.silent,
            self.message_id,
            wait,
            self.orphaned,
        ).encode()


class Sender:
    """A bounded queue drained by one daemon thread that talks to one warm child, with a memory of
    the last failure so that a broken channel is reported once per new kind of failure."""

    def __init__(
        self,
        command: list[str],
        timeout: float,
        idle: float = IDLE_SECONDS,
        locate: Callable[[], list[str]] | None = None,
        warn: Callable[[str], None] | None = None,
        limit: int = QUEUE_LIMIT,
    ) -> None:
        """`locate`: looks the command up again before each new child, so that re-running
        `jupyter-helpers install` (what a failure to start one advises) heals a running kernel.
        `warn`: where warning lines go as they happen, on the worker thread (the server's log);
        without it they wait for `take_warnings` (a kernel prints them under the next cell).
        `limit`: messages waiting at most (a kernel's own; the server's, for every kernel's death)."""
        self._changed = threading.Condition(threading.RLock())  # see the module's docstring
        self.command = command
        self.limit = limit
        self._locate = locate
        self.timeout = timeout
        self.idle = idle
        self.sent = 0
        self.last_outcome: Outcome | None = None
        self._pending: deque[_Message] = deque()
        self._held: list[_Message] = []  # live steps waiting out a 429, queued once due (`_release_held`)
        self._unfinished = 0
        self._closed = False
        self._warm_wanted = False
        self._handing = threading.Lock()  # held from taking a message until the child has it
        self._in_hand: _Message | None = None  # taken by the worker, not yet given to the child
        self._child: Any = None  # child.WarmChild, imported with the first message
        self._warnings: deque[str] = deque()
        self._warn = warn if warn is not None else self._warnings.append
        self._last_failure: str | None = None
        self._worker: threading.Thread | None = None

    @property
    def timeout(self) -> float:
        return self._timeout

    @timeout.setter
    def timeout(self, value: Any) -> None:
        seconds = usable_timeout(value)
        with self._changed:  # the worker reads it once per message, under the lock
            self._timeout = seconds

    @property
    def child_pid(self) -> int | None:
        """The warm child's process id while it runs (tests and benchmarks watch it)."""
        child = self._child
        return child.pid if child is not None and child.alive() else None

    def submit(
        self, text: str, title: str, backend: str = "", *, image: bytes | None = None, report: bool = False
    ) -> bool:
        """`image`: PNG/JPEG bytes to send as a photo with `text` as its caption (Telegram only;
        other backends get the text). `report`: also tell the kernel thread when it was sent
        (%notify, which the user asked for, reports its outcome; autonotify reports failures only).
        False when the queue was full and the message dropped."""
        message = _Message(text, title, backend, image, report)
        with self._changed:
            if len(self._pending) >= self.limit:
                reason = f"{self.limit} notifications are still waiting to be sent; dropped a new one"
                self._remember(Outcome(False, 0.0, reason=reason), report)
                return False
            self._pending.insert(_first_live(self._pending), message)
            self._unfinished += 1
            self._wake_worker()
        return True

    def submit_live(
        self,
        verb: str,
        text: str,
        message_id: int | None,
        on_reply: Callable[[Outcome], None],
        backend: str = "",
        not_before: float = 0.0,
        orphaned: str = "",
    ) -> None:
        """A live message's step (delivery_protocol: a silent "send", an "edit" or a "delete" of
        `message_id`): queued behind regular messages, bounded by LIVE_LIMIT, never reported
        under a cell; `on_reply` gets its outcome on the worker thread. `not_before` (monotonic):
        held until then (a 429), and still handed on at kernel exit, to wait in its own child.
        `orphaned`: a silent send's text for when the kernel is gone by the time Telegram answers."""
        message = _Message(text, "", backend, None, False)
        message.verb, message.message_id, message.silent, message.on_reply = verb, message_id, verb == "send", on_reply
        message.not_before, message.orphaned = not_before, orphaned
        with self._changed:
            if len(self._pending) + len(self._held) >= self.limit:
                return  # a live step is worth less than any message waiting
            if not_before > time.monotonic():
                self._held.append(message)
            else:
                self._pending.append(message)
            self._unfinished += 1
            self._wake_worker()

    def warm(self) -> None:
        """Starts the child now, if none runs (on the worker thread), so that a message about to
        come (a run that crossed its threshold) does not wait for a Python and ntfy to start."""
        with self._changed:
            self._warm_wanted = True
            self._wake_worker()

    def _wake_worker(self) -> None:
        """Under `_changed`: the worker looks at the queue again; started if none runs (the only
        place a worker starts, and only under the lock: one worker at a time)."""
        worker = self._worker
        if not self._closed and (worker is None or not worker.is_alive()):
            self._worker = threading.Thread(target=self._drain, name="jupyter-helpers-sender", daemon=True)
            self._worker.start()
        self._changed.notify_all()

    def has_warnings(self) -> bool:
        return bool(self._warnings)

    def take_warnings(self) -> list[str]:
        """Lines for the kernel thread to print under the next cell (the worker never writes to
        the notebook): failures, once per kind, and every outcome of a `report=True` message."""
        taken = []
        while self._warnings:
            taken.append(self._warnings.popleft())
        return taken

    @property
    def last_failure(self) -> str | None:
        return self._last_failure

    def wait_idle(self, timeout: float) -> bool:
        """True once everything submitted so far was handled (tests, benchmarks and the CLI)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._unfinished == 0, usable_timeout(timeout))

    def close(self, grace: float = 5.0) -> None:
        """Lets the warm child go once it has finished (the CLI, after its one message)."""
        with self._handing, self._changed:
            self._closed = True
            self._changed.notify_all()
        child, self._child = self._child, None
        if child is not None:
            child.stop(grace)

    def hand_off_pending(self) -> None:
        """At kernel exit: every message still queued goes to a detached child of its own, which
        enforces its own time limit; the warm child finishes the message it has and exits. A live
        message not sent yet stays unsent: its edits and ending needed this kernel, so it would
        stay at ⏳ after the run's final message."""
        got = self._handing.acquire(timeout=HANDOFF_WAIT)
        try:
            with self._changed:
                self._closed = True
                pending = list(self._pending) + self._held
                self._pending.clear()
                self._held.clear()
                if self._in_hand is not None:
                    # The worker took it but has not started writing it to the child (a busy
                    # machine: starting the child took long), and may die with the kernel: it is
                    # ours now, and the worker, finding it gone, does not send it.
                    pending.insert(0, self._in_hand)
                    self._in_hand = None
                self._changed.notify_all()
            if self._child is not None:
                self._child.close()
            lines: list[bytes] = []
            for message in pending:
                if message.silent:
                    continue  # a live message not sent yet: no one is left to end it (see the docstring)
                try:
                    line = message.request_line(self.timeout)
                except Exception:
                    continue  # one message that cannot be encoded must not cost the others
                if message.on_reply is not None and lines:
                    lines[-1] += b"\n" + line  # a live step: after the message before it, in its child
                else:
                    lines.append(line)
            if lines:
                from .child import hand_off

                hand_off(self.command, lines, HANDOFF_BUDGET)
        except Exception:
            pass  # exiting: nowhere left to report it
        finally:
            if got:
                self._handing.release()

    def _drain(self) -> None:
        while True:
            try:
                if not self._serve_next():
                    with self._changed:
                        self._worker = None
                    return
            except BaseException as exc:  # noqa: B036 -- nothing may end the sender
                self._drop_child()
                self._remember(Outcome(False, 0.0, reason=f"the sender failed ({type(exc).__name__}: {exc})"))
                time.sleep(1.0)  # a fault that repeats must not spin this thread

    def _serve_next(self) -> bool:
        """Delivers one message; False once the sender is closed."""
        with self._changed:
            busy = self._changed.wait_for(
                lambda: self._release_held() or self._closed or self._warm_wanted, self._next_wake()
            )
            warm_only = self._warm_wanted and not self._pending and not self._closed
            self._warm_wanted = False
            holding = bool(self._held)
        if not busy and holding:
            return True  # a held live step comes due: look again (the idle clock starts anew)
        if not busy:
            self._drop_child(gently=True)
            return True
        if warm_only:
            with self._handing:
                try:
                    self._start_child()
                except Exception:
                    self._child = None  # the message that follows starts one again and reports why not
            return True
        message = None
        try:
            with self._handing:  # until the child has the message: a kernel exit waits for this
                with self._changed:
                    if self._closed:
                        return False
                    message = self._in_hand = self._pending.popleft()
                    timeout = self._timeout  # one limit for this message, whatever %autonotify sets meanwhile
                line = message.request_line(timeout)
                deadline = time.monotonic() + timeout

                def send(child: Any) -> Any:
                    with self._changed:
                        handed_off = self._in_hand is not message
                        self._in_hand = None  # from here on, this worker sends it
                    if handed_off:  # the exit hand-off gave it a child of its own
                        from .delivery_protocol import Reply

                        return Reply(True, via="a child of its own, at exit")
                    child.send(line, deadline, timeout)
                    return None

                try:
                    outcome = self._exchange(message, send, start=True)
                finally:
                    with self._changed:
                        if self._in_hand is message:  # no child took it (it could not start): not the hand-off's
                            self._in_hand = None
            if outcome is None:
                outcome = self._exchange(message, lambda child: child.receive(deadline, timeout))
            outcome = outcome or Outcome(False, 0.0, reason="the sender gave no answer")
            if message.on_reply is not None:
                message.on_reply(outcome)
            else:
                self._remember(outcome, message.report)
        except Exception as exc:  # e.g. a message that cannot be encoded: report it, go on
            if message is not None:
                reason = f"the sender failed ({type(exc).__name__}: {exc})"
                failed = Outcome(False, time.monotonic() - message.submitted, reason=reason)
                if message.on_reply is not None:
                    message.on_reply(failed)
                else:
                    self._remember(failed, message.report)
        finally:
            if message is not None:
                with self._changed:
                    self._unfinished -= 1
                    self._changed.notify_all()
        return True

    def _release_held(self) -> bool:
        """Under `_changed`: held live steps that came due join the queue; True if it has any."""
        now = time.monotonic()
        due = [message for message in self._held if message.not_before <= now]
        for message in due:
            self._held.remove(message)
            self._pending.append(message)
        return bool(self._pending)

    def _next_wake(self) -> float:
        """Under `_changed`: how long the worker may sleep (the idle time, or until a held step is due)."""
        if not self._held:
            return self.idle
        return max(0.01, min(self.idle, min(m.not_before for m in self._held) - time.monotonic()))

    def _exchange(self, message: _Message, step: Callable[[Any], Any], start: bool = False) -> Outcome | None:
        """One step with the warm child (started first if `start` and needed): None after a
        send, else the outcome."""
        from .child import ChildFailed

        try:
            if start:
                self._start_child()
            reply = step(self._child)
        except ChildFailed as exc:
            self._child = None
            return Outcome(False, time.monotonic() - message.submitted, reason=str(exc))
        except Exception as exc:  # a garbled reply or a broken pipe: start afresh next time
            self._drop_child()
            reason = f"the sender failed ({type(exc).__name__}: {exc})"
            return Outcome(False, time.monotonic() - message.submitted, reason=reason)
        if reply is None:
            return None
        seconds = time.monotonic() - message.submitted
        if reply.ok:
            return Outcome(True, seconds, via=reply.via, reply=reply)
        return Outcome(False, seconds, reason=reply.reason or "the sender gave no reason", reply=reply)

    def _start_child(self) -> None:
        """A warm child, unless one runs (may raise child.ChildFailed)."""
        from .child import WarmChild

        if self._child is None or not self._child.alive():
            if self._locate is not None:
                self.command = self._locate()
            self._child = WarmChild(self.command)

    def _drop_child(self, gently: bool = False) -> None:
        child = self._child
        if child is not None:
            child.stop(5.0) if gently else child.kill()
        self._child = None

    def _remember(self, outcome: Outcome, report: bool = False) -> None:
        """Under the lock: the worker and a full queue (the kernel thread) both report outcomes,
        and "said once per kind of failure" is a read-modify-write."""
        with self._changed:
            self.last_outcome = outcome
            if outcome.ok:
                self.sent += 1
                if report:
                    self._warn(f"jupyter-helpers: %notify sent via {outcome.via} in {outcome.seconds:.1f} s")
            elif report:
                self._warn(f"jupyter-helpers: %notify not sent: {outcome.reason}")
            elif outcome.reason != self._last_failure:
                self._warn(f"jupyter-helpers: notification not sent: {outcome.reason}")
            self._last_failure = None if outcome.ok else outcome.reason


def _first_live(pending: deque[_Message]) -> int:
    """Where a regular message goes in the queue: before every queued live step (a final message
    never waits behind an edit)."""
    for index, queued in enumerate(pending):
        if queued.on_reply is not None:
            return index
    return len(pending)


def send_once(command: list[str], text: str, title: str, backend: str, timeout: float) -> Outcome:
    """Sends one message through a delivery child and waits for the outcome (the CLI's way: it
    has nothing else to do meanwhile)."""
    sender = Sender(command, timeout)
    try:
        sender.submit(text, title, backend)
        sender.wait_idle(usable_timeout(timeout) + 30)
    finally:
        sender.close()
    return sender.last_outcome or Outcome(False, 0.0, reason="the sender gave no answer")
