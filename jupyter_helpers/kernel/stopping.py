"""When a job is ended from outside, the run it was in the middle of still reaches the phone.

Two ways a kernel is ended without running its exit handlers (so `RunWatcher.close` never runs):
- SIGTERM to the kernel (a scheduler's time limit, systemd stopping a service, `kill PID`): Python's
  default action ends the process on the spot. A handler sends first, then ends the kernel with
  the default action, so its exit status still says SIGTERM.
- The process that started the kernel is gone (`timeout 1h jupyter nbconvert --execute` sends
  SIGTERM to nbconvert only: jupyter_client starts kernels in a session of their own). ipykernel's
  parent poller then logs one warning and calls `os._exit(1)` from its thread; a logging filter
  on that warning, which runs in that thread just before the exit, sends first.

In both cases the work runs on a thread of its own and is waited for at most STOP_BUDGET seconds:
the kernel must end even if sending cannot (jupyter_client sends SIGKILL a few seconds later).

The SIGTERM handler only starts that thread and returns. It runs on the main thread between two
steps of whatever that thread was doing, which may hold a lock the work needs (a cell hook holds
the run watcher's for a few microseconds; exit handlers hold the sender's while handing messages
to children): waiting there for the work made it wait out its whole budget, and lose the message.
Once the work is done, the thread sends SIGTERM again and the handler, finding it done, ends the
kernel with the default action.
"""

from __future__ import annotations

import _thread
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

STOP_BUDGET = 3.0
END_WAIT = 2.0  # for the main thread to run the handler again; then SIGKILL (it is stuck in a C call)
PARENT_GONE = "Parent appears to have exited"  # ipykernel.parentpoller's warning before os._exit(1)


def _within_budget(work: Callable[[], None]) -> None:
    worker = threading.Thread(target=work, name="jupyter-helpers-stopping", daemon=True)
    worker.start()
    worker.join(STOP_BUDGET)


class _ParentGone(logging.Filter):
    def __init__(self, on_stop: Callable[[str], None], how: str) -> None:
        super().__init__()
        self.on_stop, self.how = on_stop, how

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith(PARENT_GONE):
            _within_budget(lambda: self.on_stop(self.how))
        return True


def watch(on_stop: Callable[[str], None], launcher: str | None) -> Callable[[], None]:
    """Calls `on_stop(how)` before the kernel is ended by SIGTERM or by losing its parent; returns
    what undoes it (unload). `launcher`: the tool that started the kernel, to name it."""
    undo: list[Callable[[], None]] = []
    previous: Any = signal.getsignal(signal.SIGTERM)
    kernel = os.getpid()
    if previous in (signal.SIG_DFL, None) and threading.current_thread() is threading.main_thread():
        stopping = False  # read and written on the main thread only (in the handler)
        done = threading.Event()

        def stop_then_end() -> None:
            _within_budget(lambda: on_stop("by SIGTERM"))
            done.set()
            os.kill(os.getpid(), signal.SIGTERM)  # the handler ends the kernel now
            time.sleep(END_WAIT)
            os.kill(os.getpid(), signal.SIGKILL)

        def on_sigterm(signum: int, frame: Any) -> None:
            nonlocal stopping
            if done.is_set() or os.getpid() != kernel:  # sent, or a forked worker (multiprocessing)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                os.kill(os.getpid(), signal.SIGTERM)
            elif not stopping:  # a second SIGTERM must not cut the send short
                stopping = True
                # _thread, not threading: starting a Thread takes a lock the interrupted code may hold
                _thread.start_new_thread(stop_then_end, ())

        signal.signal(signal.SIGTERM, on_sigterm)

        def restore() -> None:
            if signal.getsignal(signal.SIGTERM) is on_sigterm:  # not replaced by the user since
                signal.signal(signal.SIGTERM, signal.SIG_DFL)

        undo.append(restore)
    log = _kernel_log()
    if log is not None:
        gone = _ParentGone(on_stop, f"as {launcher} ended" if launcher else "as the process that started it ended")
        log.addFilter(gone)
        undo.append(lambda: log.removeFilter(gone))

    def unwatch() -> None:
        for step in undo:
            step()

    return unwatch


def _kernel_log() -> logging.Logger | None:
    """The logger ipykernel's parent poller warns on (its application's), when in a kernel."""
    import sys

    if "ipykernel" not in sys.modules:
        return None
    from traitlets.log import get_logger

    log = get_logger()
    return log if isinstance(log, logging.Logger) else None
