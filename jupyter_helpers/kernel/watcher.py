"""The per-cell hooks: group cells into runs and hand each long run on, once, when it is over.

Cells that start less than `run_gap` seconds after the previous one ended belong to one run (Run
All, nbconvert, quick Shift-Enter). A run whose wall time reaches `after` gets one message, sent
once `run_gap` passes with no new cell, or at kernel exit. With `per = "cell"` every cell is a run.

The hooks run on the kernel thread around every cell, so they only read the clock and update a
few attributes under a lock. Everything else (naming the notebook, the project, the text, the
picture) happens on a closing thread, started with the first run (it times the run's crossing of
the threshold, when the delivery child is warmed), or on the exiting thread at kernel exit.
"""

from __future__ import annotations

import sys
import threading
from collections import deque
from collections.abc import Callable
from time import perf_counter
from typing import Any

from .capture import DisplayCapture
from .inputs import InputWatch
from .settings import AutoNotify


class Note(str):
    """A notice that informs rather than warns: printed under the cell as normal output, not in
    the error box (stderr) where warnings go."""


class Run:
    """A run of cells in progress; filled on the kernel thread."""

    __slots__ = (
        "start",
        "end",
        "first",
        "last",
        "cells",
        "longest",
        "longest_cell",
        "error",
        "failed",
        "failure",
        "failures",
        "stopped",
        "text",
        "image",
        "running",
        "pending",
        "warmed",
    )

    def __init__(self, start: float) -> None:
        self.start = self.end = start
        self.first: int | None = None
        self.last: int | None = None
        self.longest_cell: int | None = None
        self.failed: int | None = None  # the first cell of the run that failed
        self.cells = self.failures = 0
        self.longest = 0.0
        self.error: BaseException | None = None  # the last cell's
        self.failure: BaseException | None = None  # ... and its error
        self.stopped: str | None = None  # how the kernel was ended while the run's last cell ran
        self.text: str | None = None
        self.image: object = None
        self.running = True
        self.pending = False  # reached the threshold: will send once it is over
        self.warmed = False  # the warm delivery child was asked for when it crossed the threshold

    def cell_ended(self, number: int | None, started: float, now: float) -> None:
        """Counts a cell that ran from `started` to `now` (under the watcher's lock): finished, or
        stopped with the kernel."""
        self.running, self.end, self.last = False, now, number
        if self.first is None:
            self.first = number
        self.cells += 1
        if now - started >= self.longest:
            self.longest, self.longest_cell = now - started, number


class RunWatcher:
    def __init__(self, shell: Any, settings: AutoNotify, make_sender: Any, launch: Any) -> None:
        self.shell = shell
        self.settings = settings
        self.launch = launch
        self.capture = DisplayCapture()
        self.inputs = InputWatch()
        self._make_sender = make_sender
        self._sender: Any = None
        self._making_sender = threading.Lock()  # the closing thread and %notify may both be first
        self._lock = threading.Lock()  # the hooks take it directly (C-level, unlike Condition.__enter__)
        self._cond = threading.Condition(self._lock)
        self._notices = settings.notices
        self._run: Run | None = None
        self._outbox: deque[Run] = deque()  # runs over, waiting to be sent (per-cell mode, a new run)
        self._closer: threading.Thread | None = None
        self._closing = False
        self._busy = False  # the closing thread is preparing or submitting a run's message
        self._untimed = True  # the closing thread (if any) sleeps until woken: a new run must wake it
        self._cell_started = 0.0
        self._told_held = False  # the first held message is explained under the next cell
        self._closing_lock = threading.Lock()  # SIGTERM's thread and atexit may both close: one at a time
        self._configure()
        settings.observe(self._configure)

    def _configure(self, change: Any = None) -> None:
        """Plain attributes for the hooks: a traitlets read costs more than the whole hook should.
        Under the lock (the closing thread reads them), and the closing thread looks again: a
        threshold lowered in a run's first cell moves the crossing it sleeps toward."""
        settings = self.settings
        with self._lock:
            self._enabled = settings.enabled
            self._after = settings.after
            self._gap = 0.0 if settings.per == "cell" else settings.run_gap
            self._per_cell = settings.per == "cell"
            self._cond.notify_all()
        if self._sender is not None:
            self._sender.timeout = settings.send_timeout

    @property
    def sender(self) -> Any:
        """Created the first time something is sent: kernels that never notify never pay for it."""
        if self._sender is None:
            with self._making_sender:
                if self._sender is None:
                    self._sender = self._make_sender()
        return self._sender

    @property
    def started_sender(self) -> Any:
        return self._sender

    # -- the hooks (kernel thread) --------------------------------------------------------------

    def pre_run_cell(self, info: Any = None) -> None:
        now = perf_counter()
        with self._lock:
            self._cell_started = now
            run = self._run
            if run is not None and now - run.end < self._gap:
                run.running = True
                return
            if run is not None and run.pending:
                self._outbox.append(run)
                self._wake()
            self._run = Run(now)
            if self._untimed and self._enabled:
                self._wake()  # the closing thread times this run's crossing (started by the first run)

    def post_run_cell(self, result: Any) -> None:
        now = perf_counter()
        if self._notices or (self._sender is not None and self._sender.has_warnings()):
            self._print_notices()
        capture = self.capture
        text, image = capture.text, capture.image
        if text is not None or image is not None:
            capture.text = capture.image = None
        with self._lock:
            if not self._enabled:
                self._run = None
                return
            run = self._run
            if run is None:
                return  # the extension was loaded during this cell
            number = result.execution_count
            run.cell_ended(number, self._cell_started, now)
            run.error = error = result.error_in_exec or result.error_before_exec
            if error is not None:
                run.failures += 1
                if run.failed is None:
                    run.failed, run.failure = number, error
            if text is not None:
                run.text = text
            if image is not None:
                run.image = image
            if now - run.start < self._after:
                return
            if self._per_cell:
                self._outbox.append(run)
                self._run = None
                self._wake()
            elif not run.pending:
                run.pending = True
                self._wake()

    def _print_notices(self) -> None:
        notices = self._notices
        while notices:
            notice = notices.popleft()
            print(notice, file=sys.stdout if isinstance(notice, Note) else sys.stderr)
        if self._sender is not None:
            for line in self._sender.take_warnings():
                print(line, file=sys.stderr)

    # -- closing runs (closing thread, or the exiting thread) -------------------------------------

    def _wake(self) -> None:
        """Under the lock: make the closing thread look again (starting it the first time)."""
        if self._closer is None:
            self._closer = threading.Thread(target=self._close_runs, name="jupyter-helpers-runs", daemon=True)
            self._closer.start()
        self._cond.notify_all()

    def _due(self) -> Run | None:
        """Under the lock: a run that is over and should be sent now, taken out of the state."""
        if self._outbox:
            return self._outbox.popleft()
        run = self._run
        if run is None or not run.pending:
            return None
        if self._closing or (not run.running and perf_counter() - run.end >= self._gap):
            self._run = None
            return run
        return None

    def _wait_time(self) -> float | None:
        """Under the lock: how long the closing thread may sleep (None: until woken)."""
        run = self._run
        if run is None:
            return None
        if not run.pending:
            if run.running and not run.warmed:
                return max(run.start + self._after - perf_counter(), 0.0)  # when it crosses the threshold
            return None
        if run.running:
            return max(self._gap, 0.05)  # the cell's end may extend the run: look again then
        return max(run.end + self._gap - perf_counter(), 0.0)

    def _crossed(self) -> bool:
        """Under the lock: the run in progress has just reached the threshold (once per run)."""
        run = self._run
        if run is None or run.warmed:
            return False
        if run.pending or (run.running and perf_counter() - run.start >= self._after):
            run.warmed = True
            return True
        return False

    def _close_runs(self) -> None:
        """The closing thread: starts the warm delivery child when a run crosses the threshold
        (so its message does not wait for a Python to start), and sends runs that are over."""
        while True:
            crossed = False
            with self._cond:
                run = self._due()
                while run is None and not crossed:
                    if self._closing:
                        return
                    timeout = self._wait_time()
                    self._untimed = timeout is None
                    self._cond.wait(timeout)
                    self._untimed = False
                    crossed = self._crossed()
                    run = self._due()
                self._busy = run is not None
            if crossed:
                self._warm()
            if run is None:
                continue
            try:
                self._send(run)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _warm(self) -> None:
        """Asks the sender for its warm child now (on the closing thread, never the kernel's)."""
        try:
            self.sender.warm()
        except Exception:
            pass  # the message itself will start a child, and report what fails

    def wait_idle(self, timeout: float) -> bool:
        """True once every run that is over was handed to the sender and the sender is idle
        (tests wait on it; a run still in progress, such as the caller's own, is not waited for)."""
        from time import monotonic

        deadline = monotonic() + timeout
        with self._cond:
            if not self._cond.wait_for(lambda: not self._outbox and not self._busy, timeout):
                return False
        sender = self._sender
        return sender is None or sender.wait_idle(max(deadline - monotonic(), 0.0))

    def close(self, hand_off: bool = True) -> None:
        """At kernel exit: send the run in progress and everything waiting, then let the sender
        hand its queue to children that outlive the kernel (nbconvert's last run must arrive).
        This runs before the sender's own exit hand-off, whatever order they were registered in.
        SIGTERM's thread and atexit may both call it: the second waits for the first to finish
        (the kernel must not end while the first hands messages to their children)."""
        with self._closing_lock:
            self._close(hand_off)

    def _close(self, hand_off: bool) -> None:
        with self._cond:
            self._closing = True
            closer = self._closer
            self._cond.notify_all()
        if closer is not None:
            closer.join(timeout=10)
        else:
            while True:
                with self._cond:
                    run = self._due()
                if run is None:
                    break
                self._send(run)
        if hand_off and self._sender is not None:
            self._sender.hand_off_pending()

    def stopped(self, how: str) -> None:
        """The kernel is being ended (`how`: `by SIGTERM`, ...): a run whose cell is still running
        and that has passed the threshold goes out now, marked as stopped, with everything
        already waiting; then the sender hands its queue to children that outlive the kernel."""
        now = perf_counter()
        with self._lock:
            run = self._run
            if self._enabled and run is not None and run.running and now - run.start >= self._after:
                run.cell_ended(self._running_cell(), self._cell_started, now)
                run.stopped, run.pending = how, True
        self.close()

    def _send(self, run: Run) -> None:
        if not self._enabled:
            return
        try:
            record, image = self.record(run)
            self.notify_run(record, image)
        except Exception as exc:  # never let a message end the closing thread
            self.settings.notices.append(
                f"jupyter-helpers: could not prepare a notification ({type(exc).__name__}: {exc})"
            )

    def record(self, run: Run) -> tuple[Any, bytes | None]:
        """The run as a message record, and the picture to attach (when allowed and not too big:
        the size is judged before the picture is decoded or handed to the delivery child)."""
        from ..common.text import PHOTO_LIMIT, clean, left_out_note
        from .capture import image_bytes, payload_size
        from .message import RunRecord, describe_error

        settings = self.settings
        limit = settings.excerpt_length
        notebook, project = self.place()
        image, left_out = None, None
        if settings.images and run.image is not None:
            size = payload_size(run.image)
            if size > PHOTO_LIMIT:
                left_out = left_out_note(size)
            else:
                image = image_bytes(run.image)
        return RunRecord(
            notebook=notebook,
            project=project,
            first_cell=run.first,
            last_cell=run.last,
            seconds=run.end - run.start,
            host=_host(),
            cells=run.cells,
            longest_cell=run.longest_cell,
            longest_seconds=run.longest,
            excerpt=None if run.error is not None or run.text is None else clean(run.text[: 2 * limit + 64], limit),
            error=None if run.error is None else describe_error(run.error, limit),
            failed_cell=run.failed,
            failed_error=None if run.failure is None else describe_error(run.failure, limit),
            failures=run.failures,
            stopped=run.stopped,
            note=clean(settings.message, 1000),
            left_out=left_out,
        ), image

    def place(self) -> tuple[str | None, str | None]:
        """(notebook file name, project), each None when unknown; read when a message is made."""
        from ..common.projects import project_of
        from ..common.text import clean_name
        from .names import notebook_path

        path = notebook_path(self.shell, self.launch)
        if path is None:
            return (None if self.launch else _shell_name()), None
        return clean_name(path.rsplit("/", 1)[-1]) or None, project_of(path)

    def notify_run(self, record: Any, image: bytes | None) -> None:
        from .message import compose, title

        self._deliver(compose(record), title(record), image)

    def _deliver(self, text: str, title: str, image: bytes | None = None) -> None:
        """The one place where the kernel's automatic messages leave (%notify, which the user
        typed, skips the presence rule): held while the user looks at the notebook."""
        from .presence import current_verdict

        if self.settings.when == "away" and current_verdict(self.settings.present_for).looking:
            if not self._told_held:  # a newcomer's first test is exactly this: say it once
                self._told_held = True
                self._notices.append(
                    Note(
                        f"jupyter-helpers: not sent to your phone, because you are looking at this "
                        f"notebook: {title}. `%autonotify --when always` sends every message "
                        "(this note shows once per kernel)"
                    )
                )
            return
        self.sender.submit(text, title, self.settings.backend, image=image)

    def input_timer(self, prompt: str, told: Callable[[float], None]) -> Any:
        """A cell asked for input (kernel/inputs.py): a timer that sends one message quoting the
        prompt if no answer comes within `input_after` seconds, and then calls `told(seconds)`;
        None when that is off."""
        seconds = self.settings.input_after
        if not self._enabled or seconds <= 0:
            return None
        timer = threading.Timer(seconds, self._input_waits, (prompt, self._running_cell(), lambda: told(seconds)))
        timer.daemon = True
        timer.start()
        return timer

    def _running_cell(self) -> int | None:
        """The number of the cell running now (IPython counts it before the cell starts)."""
        count = getattr(self.shell, "execution_count", None)
        return count - 1 if isinstance(count, int) else None

    def _input_waits(self, prompt: str, cell: int | None, told: Callable[[], None]) -> None:
        from .message import compose_wait

        told()
        try:
            notebook, project = self.place()
            self._deliver(*compose_wait(prompt, cell, notebook, project, _host(), self.settings.excerpt_length))
        except Exception as exc:  # never let a message end the timer's thread noisily
            self.settings.notices.append(
                f"jupyter-helpers: could not prepare a notification ({type(exc).__name__}: {exc})"
            )


def _shell_name() -> str | None:
    """A terminal IPython has no notebook; a kernel whose notebook is unknown says nothing."""
    return None if "ipykernel" in sys.modules else "IPython"


def _host() -> str:
    import socket

    return socket.gethostname()
