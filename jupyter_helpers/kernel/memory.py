"""The memory watch: while a cell runs, a thread of its own samples the memory the kernel may use
(common/memory.py: the cgroup's working set against its limit, else the machine's) every 0.25 s,
and every 0.1 s near a level (`next_look`); memory heading for a level has the delivery child
started (`warm_now`). Past `memory_warn`: one 🧠 message per run; past `memory_interrupt`: SIGINT
to the kernel itself (the Interrupt button's signal), so the cell ends with KeyboardInterrupt
before the OOM killer ends the kernel and every variable with it; looks go on, and a cell that
catches it and grows on is interrupted again, halfway to the limit. Under a memory cgroup's limit
it also records the peak for the server's death message.

While no cell runs the thread is blocked on a lock the kernel thread holds: no sampling, no
wake-ups. The hooks only flip a flag and that lock (and read the clock, to tell runs apart as the
run watcher does: a cell starting within `run_gap` of the last one's end continues its run). The
thread starts with the first cell.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from time import perf_counter, sleep
from typing import Any

SLOW, FAST = 0.25, 0.1  # seconds between looks: far from every level, and near one
ASSUMED_RATE = 400 * 1024**2  # bytes/s: at least this fast is how memory may grow until the next look
WARM_LEAD = 2.0  # seconds: a level this close at the growth seen has the delivery child started
WARM_EVERY = 1.0  # seconds between asks while memory keeps heading for a level (the sender lets an idle child go)


def judge(
    used: int, limit: int, floor: int, warn: float, interrupt: float, warned: bool, step: float = 0.0
) -> tuple[bool, bool]:
    """What one reading calls for: (warn, interrupt). A level counts as passed when the run brought memory past it
    (`floor`: the lowest use seen since the run began, or just before): a run that starts above a
    level, such as the next one after an interrupt whose variables were kept, passes it only by
    growing another `step` bytes (1% of the limit unless given). One warning per run; an interrupt says it all."""
    grown = step or limit / 100

    def passed(level: float) -> bool:
        return bool(level) and used >= level * limit and (floor < level * limit or used - floor >= grown)

    hit = passed(interrupt)
    return not warned and not hit and passed(warn), hit


def next_look(used: int, limit: int, rate: float, levels: tuple[float, ...]) -> float:
    """Seconds until the next look: SLOW while every level still ahead (`levels`, fractions; 0 is
    off) is more than two slow looks away at the growth seen (at least ASSUMED_RATE), else FAST.
    So a busy kernel far from its limit costs less (benchmarks/run.py), and 200 MB/s growth is
    seen at most 20 MB past a level."""
    reach = 2 * SLOW * max(rate, ASSUMED_RATE)
    return FAST if any(level and level * limit - used < reach for level in levels) else SLOW


def warm_now(used: int, limit: int, rate: float, levels: tuple[float, ...]) -> bool:
    """Whether to start the delivery child before a level is passed: memory is growing (`rate`,
    bytes/s) and reaches a level still ahead within WARM_LEAD. Started only with its message, a
    child still loading when the OOM killer took the kernel was the next process taken, and the
    message with it; in a small cgroup its memory, taken at once, also leapt over the interrupt
    level. Started early, its memory (~35 MB, in the kernel's cgroup) is counted before the levels
    are. Not for nearness alone: it would carry a quiet cell sitting near a level past it."""
    return rate > 0 and any(level and 0 < level * limit - used < WARM_LEAD * rate for level in levels)


class MemoryWatch:
    """Hooks for one shell, and the sampling thread (started with the first cell)."""

    def __init__(self, watcher: Any, root: Path = Path("/")) -> None:
        self.watcher = watcher
        self.settings = watcher.settings
        self.root = root
        self._gate = threading.Lock()
        self._gate.acquire()  # held by the kernel thread while no cell runs: the sampler waits on it
        self._running = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._runs = 0  # runs started: the sampler sees a new run when this changes
        self._ended = float("-inf")
        self._told: set[str] = set()  # notices given once per kernel
        self._configure()
        self.settings.observe(self._configure)

    def _configure(self, change: Any = None) -> None:
        settings = self.settings
        self._on = bool(settings.memory_warn or settings.memory_interrupt)
        self._gap = 0.0 if settings.per == "cell" else settings.run_gap

    # -- the hooks (kernel thread) --------------------------------------------------------------

    def pre_run_cell(self, info: Any = None) -> None:
        if self._running or not self._on:
            return
        if perf_counter() - self._ended >= self._gap:
            self._runs += 1
        self._running = True
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="jupyter-helpers-memory", daemon=True)
            self._thread.start()
        self._gate.release()

    def post_run_cell(self, result: Any = None) -> None:
        if self._running:
            self._running = False
            self._ended = perf_counter()
            self._gate.acquire()

    def close(self) -> None:
        """The extension is unloaded: the thread ends (it is a daemon thread at kernel exit)."""
        self._closed = True
        if not self._running:
            self._running = True
            self._gate.release()

    # -- the sampling thread --------------------------------------------------------------------

    def _watch(self) -> None:
        try:
            self._sample_runs()
        except Exception as exc:  # never let the watch end noisily; say why it stopped
            self.settings.notices.append(f"jupyter-helpers: memory watch stopped ({type(exc).__name__}: {exc})")

    def _sample_runs(self) -> None:
        from ..common.memory import LimitChanged, Reading

        gate = self._gate
        peak_path: Path | None | bool = False  # False: not looked for yet (at the first look, not at start)
        sampler: Any = None
        run, last, peak, written = 0, 0, 0, -1
        warned = interrupted = False
        warmed = float("-inf")  # when this run last asked for the delivery child
        first: tuple[float, int] = (0.0, 0)
        floor, delay, before, step = 0, FAST, (0.0, 0), 0.0
        while True:
            gate.acquire()  # blocks while no cell runs
            gate.release()
            if self._closed:
                break
            sleep(delay)
            if not self._running or self._closed:
                continue
            if self._runs != run:  # a new run: look for the limit again (it may have changed)
                run, warned, interrupted, floor, first, delay = self._runs, False, False, last, (0.0, -1), FAST
                step = 0.0
                warmed = float("-inf")
                sampler = self._sampler(sampler)
            if sampler is None:
                continue
            try:
                reading = sampler.read()
            except LimitChanged:
                sampler = self._sampler(sampler)  # the new limit, within this run
                continue
            except (OSError, ValueError):
                sampler.close()
                sampler = None  # found again with the next run
                continue
            now, last = perf_counter(), reading.used
            floor = min(floor, last)
            if first[1] < 0:
                first = before = (now, last)
            if peak_path is False:
                peak_path = _own_peak_file()
            if last > peak:
                peak = last
                # under a memory cgroup's limit only: the machine's use is every process's, and
                # says nothing about this kernel at its death (server/death_message.py)
                limited = sampler.source.folder is not None
                if limited and isinstance(peak_path, Path) and peak >= written + reading.limit / 100:
                    written = peak
                    self._record_peak(peak_path, Reading(peak, reading.limit))
            settings = self.settings
            warn, interrupt = judge(
                last, reading.limit, floor, settings.memory_warn, settings.memory_interrupt, warned, step
            )
            if interrupt:
                # Looks go on: a cell that catches KeyboardInterrupt and grows on, or the next cell
                # of the run, is interrupted again once it has grown half the room left (else the
                # OOM killer took the kernel whose variables the first message said were kept),
                # and not before: a handler saving a checkpoint needs memory too.
                self._interrupt(reading, now - first[0], last - first[1], tell=not interrupted)
                interrupted = warned = True
                floor, step = last, (reading.limit - last) / 2
            elif warn:
                warned = True
                self._tell(reading, now - first[0], last - first[1], interrupted=False)
            rate = (last - before[1]) / (now - before[0]) if now > before[0] else 0.0
            before = (now, last)
            levels = (settings.memory_interrupt,) if warned else (settings.memory_warn, settings.memory_interrupt)
            delay = next_look(last, reading.limit, rate, levels)
            if settings.enabled and now - warmed >= WARM_EVERY and warm_now(last, reading.limit, rate, levels):
                warmed = now
                self.watcher.warm_sender()
        if sampler is not None:
            sampler.close()

    def _sampler(self, previous: Any) -> Any:
        """The reader for this run: the same as before while the source is unchanged."""
        from ..common.memory import Sampler, find_source, size

        source, problem = find_source("self", self.root)
        if problem and source is not None:
            self._once(
                "cgroup", f"jupyter-helpers: {problem}; memory is judged against the machine's {size(source.limit)}"
            )
        if previous is not None and source is not None and previous.source == source:
            return previous
        if previous is not None:
            previous.close()
        if source is None:
            return None
        try:
            return Sampler(source, self.root)
        except OSError as exc:
            self._once("sampler", f"jupyter-helpers: cannot read memory use ({exc}); no memory warnings")
            return None

    def _once(self, key: str, notice: str) -> None:
        if key not in self._told:
            self._told.add(key)
            self.settings.notices.append(notice)

    def _record_peak(self, path: Path, reading: Any) -> None:
        from ..common.memory import write_peak

        try:
            write_peak(path, reading)
        except OSError:
            return  # the death message goes without the peak
        if "peak" not in self._told:
            self._told.add("peak")
            import atexit

            atexit.register(_remove, path)

    def _interrupt(self, reading: Any, seconds: float, grew: int, tell: bool) -> None:
        """SIGINT to this process, as the Interrupt button sends it: the running cell ends with
        KeyboardInterrupt, the kernel and its variables stay. The notice shows under that cell;
        the 🧠 message goes with a run's first interrupt only (`tell`)."""
        from ..common.memory import amount, percent

        cell = self.watcher._running_cell()
        self.settings.notices.append(
            f"jupyter-helpers: interrupted cell [{cell}] at {percent(reading)} memory ({amount(reading)}) "
            "before the OOM killer could end the kernel; its variables are kept. "
            "`%autonotify --memory-interrupt 0` turns this off"
        )
        os.kill(os.getpid(), signal.SIGINT)
        if tell:
            self._tell(reading, seconds, grew, interrupted=True, cell=cell)

    def _tell(self, reading: Any, seconds: float, grew: int, interrupted: bool, cell: Any = None) -> None:
        """One 🧠 message, through the watcher's own way out (presence holds it like any other)."""
        from .message import MemoryRecord, compose_memory
        from .watcher import _host

        settings = self.settings
        if not settings.enabled:
            return
        try:
            notebook, project = self.watcher.place()
            record = MemoryRecord(
                notebook=notebook,
                project=project,
                cell=self.watcher._running_cell() if cell is None else cell,
                used=reading.used,
                limit=reading.limit,
                grew=grew,
                seconds=seconds,
                warn=settings.memory_warn,
                interrupt=settings.memory_interrupt,
                interrupted=interrupted,
                host=_host(),
            )
            self.watcher._deliver(*compose_memory(record))
        except Exception as exc:  # never let a message end the memory watch
            settings.notices.append(f"jupyter-helpers: could not prepare a notification ({type(exc).__name__}: {exc})")


def _own_peak_file() -> Path | None:
    from ..common.memory import peak_file
    from .presence import own_kernel_file

    return own_kernel_file(peak_file)


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
