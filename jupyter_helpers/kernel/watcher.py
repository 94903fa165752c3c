"""The per-cell hooks and the closing thread: the IPython and threading adapter around the run
state machine (kernel/runs.py), which decides what forms a run and when it is over or due.

A run whose wall time reaches `after` gets one message, once it is over; one still running `live`
seconds in gets a live message (kernel/live.py), edited while it runs and ended after the final
message.

The hooks run on the kernel thread around every cell, so they only read the clock and update a
few attributes under a lock. Everything else (naming the notebook, the project, the text, the
picture) happens on a closing thread, started with the first run (it times the run's crossing of
the threshold, when the delivery child is warmed), or on the exiting thread at kernel exit.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from time import perf_counter
from typing import Any

from .capture import DisplayCapture, PrintedTail
from .inputs import InputWatch
from .runs import Run, RunBook
from .settings import AutoNotify


class Note(str):
    """A notice that informs rather than warns: printed under the cell as normal output, not in
    the error box (stderr) where warnings go."""


class RunWatcher:
    def __init__(self, shell: Any, settings: AutoNotify, make_sender: Any, launch: Any) -> None:
        self.shell = shell
        self.settings = settings
        self.launch = launch
        self.capture = DisplayCapture()
        self.printed = PrintedTail()
        self.inputs = InputWatch()
        self._make_sender = make_sender
        self._sender: Any = None
        self._making_sender = threading.Lock()  # the closing thread and %notify may both be first
        self._lock = threading.Lock()  # the hooks take it directly (C-level, unlike Condition.__enter__)
        self._cond = threading.Condition(self._lock)
        self._notices = settings.notices
        self._book = RunBook()  # the run state machine (kernel/runs.py), used under the lock
        self._closer: threading.Thread | None = None
        self._busy = False  # the closing thread is preparing or submitting a run's message
        self.live_cannot: str | None = None  # why live messages cannot be sent (the delivery child said)
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
            self._book.configure(
                settings.enabled,
                settings.after,
                settings.run_gap,
                settings.per,
                settings.live,
                settings.live_every,
                perf_counter(),
            )
            self._cond.notify_all()  # a lowered threshold or a new `live` may bring a wake-up nearer
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
            if self._book.cell_started(now):
                self._wake()

    def post_run_cell(self, result: Any) -> None:
        now = perf_counter()
        if self._notices or (self._sender is not None and self._sender.has_warnings()):
            self._print_notices()
        capture = self.capture
        text, image = capture.text, capture.image
        if text is not None or image is not None:
            capture.text = capture.image = None
        error = result.error_in_exec or result.error_before_exec
        # Jupyter interrupts the cells of a server that shuts down: stopped, not failed
        stopped = server_shutdown() if error is not None and isinstance(error, KeyboardInterrupt) else None
        with self._lock:
            if stopped is not None and self._book.stop(stopped, result.execution_count, now):
                self._wake()
            elif self._book.cell_ended(result.execution_count, error, text, image, now):
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

    def _close_runs(self) -> None:
        """The closing thread: starts the warm delivery child when a run crosses the threshold
        (so its message does not wait for a Python to start), sends or edits the live message of
        a run in progress, and closes runs that are over."""
        book = self._book
        while True:
            crossed = False
            with self._cond:
                now = perf_counter()
                run = book.due(now)
                live = None if run is not None else book.live_due(now)
                while run is None and live is None and not crossed:
                    if book.closing:
                        return
                    timeout = book.wait_time(now)
                    book.untimed = timeout is None
                    self._cond.wait(timeout)
                    book.untimed = False
                    now = perf_counter()
                    crossed = book.crossed(now)
                    run = book.due(now)
                    live = None if run is not None else book.live_due(now)
                self._busy = run is not None
            if crossed:
                self.warm_sender()
            if live is not None:
                self._live(live)
            if run is None:
                continue
            try:
                self._send(run)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def warm_sender(self) -> None:
        """Asks the sender for its warm child now, when a message is near (the closing thread, when
        a run crossed its threshold; the memory watch, near a memory level). Never the kernel's thread."""
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
            if not self._cond.wait_for(lambda: not self._book.outbox and not self._busy, timeout):
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
            self._book.closing = True
            closer = self._closer
            self._cond.notify_all()
        if closer is not None:
            closer.join(timeout=10)
        else:
            while True:
                with self._cond:
                    run = self._book.due(perf_counter())
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
        how = server_shutdown() or how  # SIGTERM from a server shutting down: the cell ignored its interrupt
        with self._lock:
            self._book.stop(how, self._running_cell(), now)
        self.close()

    def _send(self, run: Run) -> None:
        """Closes a run that is over: its message (when it reached the threshold), then the end
        of its live message (after the message, so that the phone buzzes for the new one). A run
        was judged when it ended: an `%autonotify --off` since then does not take its message back.
        One turned off while it went on (`run.off`) gets no message, and its live message says so."""
        if not run.closable:
            return
        from .message import live_end, live_off

        ending = None
        try:
            if run.off is not None:
                ending = live_off(*self.place(), run.off)
            else:
                record, image = self.record(run)
                ending = live_end(record)
                if run.pending:
                    self.notify_run(record, image)
        except Exception as exc:  # never let a message end the closing thread
            self.settings.notices.append(
                f"jupyter-helpers: could not prepare a notification ({type(exc).__name__}: {exc})"
            )
        if run.live is not None:
            run.live.end(ending)

    def _live(self, run: Run) -> None:
        """A run in progress whose live message is due: sent the first time, then edited when its
        text changed (on the closing thread; the delivery child does the rest)."""
        try:
            if self.live_cannot is not None or (self.settings.backend not in ("", "telegram")):
                return
            from .live import LiveMessage
            from .message import compose_live
            from .progress import bar_line

            limit = self.settings.excerpt_length
            notebook, project = place = self.place()
            cell = self._running_cell() if run.running else run.last
            shown = bar_line(limit) or self.printed.line(limit)
            text = compose_live(notebook, project, cell, run.cells, perf_counter() - run.start, shown, _host())
            if run.live is None:
                backend = self.settings.backend
                run.live = LiveMessage(self.sender, self._live_refused, place, time_started(run.start), backend)
            run.live.update(text)
        except Exception as exc:  # never let a live message end the closing thread
            self.settings.notices.append(
                f"jupyter-helpers: could not prepare a live message ({type(exc).__name__}: {exc})"
            )

    def _live_refused(self, reason: str) -> None:
        """The delivery child cannot edit messages (no Telegram among the backends): no more live
        messages in this kernel; `%autonotify --status` says why."""
        self.live_cannot = reason

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
        """The number of the cell running now: its ExecutionResult, which the display hook holds
        while it runs, has it in every IPython (9 counts a cell before it starts, 8 after it ends)."""
        running = getattr(getattr(self.shell, "displayhook", None), "exec_result", None)
        count = getattr(running, "execution_count", None)
        if isinstance(count, int):
            return count
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


def server_shutdown() -> str | None:
    """How the run was stopped when the Jupyter server that started this kernel said it is
    shutting it down, else None (common/shutdown.py: one small file, read only when a cell is
    interrupted or the kernel gets SIGTERM)."""
    from ..common.shutdown import HOW, announced, shutdown_file
    from .presence import own_kernel_file

    return HOW if announced(own_kernel_file(shutdown_file)) else None


def time_started(start: float) -> float:
    """The wall-clock time (time.time()) of a `perf_counter` time in this process."""
    import time

    return time.time() - (perf_counter() - start)


def _shell_name() -> str | None:
    """A terminal IPython has no notebook; a kernel whose notebook is unknown says nothing."""
    return None if "ipykernel" in sys.modules else "IPython"


def _host() -> str:
    import socket

    return socket.gethostname()
