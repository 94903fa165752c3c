"""The run state machine: which cells form a run, when a run is over, when it crosses its
threshold, when its live message is due. Pure: every method takes the time as an argument, so the
fast tests drive it with an injected clock; kernel/watcher.py calls it under its lock, from the
kernel thread (the hooks) and from the closing thread.

Cells that start less than `gap` seconds after the previous one ended belong to one run (Run
All, nbconvert, quick Shift-Enter). A run whose wall time reaches `after` is `pending`: it gets one
message once `gap` passes with no new cell (or at kernel exit). With `per_cell` every cell is a
run. A run still running `live` seconds after its start gets a live message (kernel/live.py),
looked at again every `live_every` seconds while it runs; a run that had one is closed even when
it stays under `after`, so that its live message is ended. Notifications turned off during a run
(`%autonotify --off`) close it at once when it has a live message (ended saying when they were
turned off, and no message), and drop it otherwise.

The hooks' methods (`cell_started`, `cell_ended`) only compare times and set attributes: they run
around every cell and must cost microseconds (no traitlets reads, no allocation beyond a Run).
"""

from __future__ import annotations

from collections import deque
from typing import Any

NEVER = float("inf")


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
        "live_next",
        "live",
        "off",
    )

    def __init__(self, start: float, live_next: float = NEVER) -> None:
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
        self.live_next = live_next  # when the live message is next looked at (NEVER: no live message)
        self.live: Any = None  # its kernel/live.py LiveMessage, once one was sent
        self.off: float | None = None  # seconds into it when notifications were turned off (None: not)

    def cell_ended(self, number: int | None, started: float, now: float) -> None:
        """Counts a cell that ran from `started` to `now`: finished, or stopped with the kernel."""
        self.running, self.end, self.last = False, now, number
        if self.first is None:
            self.first = number
        self.cells += 1
        if now - started >= self.longest:
            self.longest, self.longest_cell = now - started, number

    @property
    def closable(self) -> bool:
        """Something must happen when it is over: its message, or the end of its live message."""
        return self.pending or self.live is not None


class RunBook:
    """The runs of one shell: the one in progress and those over, waiting to be closed."""

    __slots__ = (
        "enabled",
        "after",
        "gap",
        "per_cell",
        "live",
        "live_every",
        "run",
        "outbox",
        "closing",
        "untimed",
        "cell_started_at",
    )

    def __init__(self) -> None:
        self.enabled = True
        self.after = 60.0
        self.gap = 1.0
        self.per_cell = False
        self.live = 0.0  # seconds into a run before its live message; 0: never
        self.live_every = 60.0
        self.run: Run | None = None
        self.outbox: deque[Run] = deque()  # runs over, waiting to be closed (per-cell mode, a new run)
        self.closing = False  # the kernel exits: every run is over now
        self.untimed = True  # the closing thread sleeps until woken: a new run must wake it
        self.cell_started_at = 0.0

    def configure(
        self, enabled: bool, after: float, run_gap: float, per: str, live: float, live_every: float, now: float
    ) -> None:
        self.enabled, self.after, self.per_cell = enabled, after, per == "cell"
        self.gap = 0.0 if per == "cell" else run_gap
        self.live, self.live_every = live, live_every
        run = self.run
        if run is None:
            return
        if not enabled:
            self._turn_off(run, now)
            return
        run.off = None  # turned on again within the run: it is judged as usual
        if run.live is None or live <= 0:  # `%autonotify --live` in a run: re-timed
            run.live_next = run.start + live if live > 0 else NEVER

    def _turn_off(self, run: Run, now: float) -> None:
        """`%autonotify --off` while a run goes on: the run gets no message and no more live
        edits, and a live message it has is ended now (saying when notifications were turned
        off), not edited on until the run ends."""
        if run.off is None:
            run.off = (now if run.running else run.end) - run.start
        run.pending, run.live_next = False, NEVER
        if run.live is not None:
            self.outbox.append(run)
            self.run = None

    # -- the hooks (kernel thread) --------------------------------------------------------------

    def cell_started(self, now: float) -> bool:
        """A cell starts: it continues the run or begins one. True: wake the closing thread."""
        self.cell_started_at = now
        run = self.run
        if run is not None and now - run.end < self.gap:
            run.running = True
            return self.untimed  # its crossing or live message may be due while this cell runs
        wake = False
        if run is not None and run.closable:
            self.outbox.append(run)
            wake = True
        live = self.live
        self.run = Run(now, now + live if live > 0 and self.enabled else NEVER)
        return wake or (self.untimed and self.enabled)

    def cell_ended(
        self, number: int | None, error: BaseException | None, text: str | None, image: object, now: float
    ) -> bool:
        """A cell ended (with `error` when it failed, `text`/`image`: what it displayed last, if
        anything). True: wake the closing thread."""
        run = self.run
        if not self.enabled:
            self.run = None
            if run is None or run.live is None:
                return False
            # the closing thread gave it its live message as notifications were turned off
            # (`_turn_off` ends one it already had): that one is ended too
            self.outbox.append(run)
            return True
        if run is None:
            return False  # the extension was loaded during this cell
        run.cell_ended(number, self.cell_started_at, now)
        run.error = error
        if error is not None:
            run.failures += 1
            if run.failed is None:
                run.failed, run.failure = number, error
        if text is not None:
            run.text = text
        if image is not None:
            run.image = image
        crossed = now - run.start >= self.after
        if self.per_cell:
            run.pending = crossed
            if not run.closable:
                return False
            self.outbox.append(run)
            self.run = None
            return True
        if crossed and not run.pending:
            run.pending = True
            return True
        return False

    def stop(self, how: str, cell: int | None, now: float) -> bool:
        """The kernel is being ended (`how`: `by SIGTERM`, ...) while a cell runs: a run past its
        threshold or with a live message is over now, marked as stopped (True)."""
        run = self.run
        if not self.enabled or run is None or not run.running:
            return False
        if now - run.start >= self.after or run.live is not None:
            run.cell_ended(cell, self.cell_started_at, now)
            run.stopped = how
            run.pending = now - run.start >= self.after
            return True
        return False

    # -- the closing thread -----------------------------------------------------------------------

    def due(self, now: float) -> Run | None:
        """A run that is over and should be closed now, taken out of the state."""
        if self.outbox:
            return self.outbox.popleft()
        run = self.run
        if run is None or not run.closable:
            return None
        if self.closing or (not run.running and now - run.end >= self.gap):
            self.run = None
            return run
        return None

    def crossed(self, now: float) -> bool:
        """The run in progress has just reached the threshold (once per run)."""
        run = self.run
        if run is None or run.warmed:
            return False
        if run.pending or (run.running and now - run.start >= self.after):
            run.warmed = True
            return True
        return False

    def live_due(self, now: float) -> Run | None:
        """The run in progress, when its live message is due (sent or looked at again) now; the
        next look is then `live_every` seconds away."""
        run = self.run
        if run is None or self.closing or now < run.live_next or not (run.running or now - run.end < self.gap):
            return None
        run.live_next = now + self.live_every
        return run

    def wait_time(self, now: float) -> float | None:
        """How long the closing thread may sleep (None: until woken)."""
        run = self.run
        if run is None:
            return None
        waits = []
        if run.running:
            if not run.warmed and not run.pending:
                waits.append(run.start + self.after - now)  # when it crosses the threshold
            waits.append(run.live_next - now)  # NEVER when it gets no live message
            if run.closable:
                waits.append(max(self.gap, 0.05))  # the cell's end may extend the run: look again then
        elif run.closable:
            waits.append(run.end + self.gap - now)
        wait = min(waits, default=NEVER)
        return None if wait == NEVER else max(wait, 0.0)
