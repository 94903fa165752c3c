"""The per-cell hooks: time each cell and, only when it ran long enough, hand a record on.

These run on the kernel thread around every cell, so the short-cell path is two clock reads and
a comparison; the result's repr is taken only for cells that will notify.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from time import perf_counter
from typing import Any

from .message import CellRecord, compose, describe_error, safe_excerpt, title
from .sender import Sender
from .settings import AutoNotify


def _notebook_in_parent_command() -> str | None:
    """`jupyter nbconvert --execute x.ipynb` and papermill start the kernel themselves and name
    the notebook on their own command line (the first .ipynb argument is the input)."""
    try:
        argv = Path(f"/proc/{os.getppid()}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    notebooks = [arg.decode(errors="replace") for arg in argv if arg.endswith(b".ipynb")]
    return notebooks[0] if notebooks else None


def notebook_name(shell: Any) -> str | None:
    """Jupyter tells the kernels it starts their notebook (JPY_SESSION_NAME, `__session__`);
    otherwise the process that started the kernel may name it."""
    session = os.environ.get("JPY_SESSION_NAME") or shell.user_ns.get("__session__") or _notebook_in_parent_command()
    return Path(session).name if isinstance(session, str) and session else None


class CellWatcher:
    __slots__ = ("shell", "settings", "sender", "host", "_started")

    def __init__(self, shell: Any, settings: AutoNotify, sender: Sender, host: str) -> None:
        self.shell = shell
        self.settings = settings
        self.sender = sender
        self.host = host
        self._started: float | None = None

    def pre_run_cell(self, info: Any) -> None:
        self._started = perf_counter()

    def post_run_cell(self, result: Any) -> None:
        started, self._started = self._started, None
        if self.sender.has_warnings():
            for line in self.sender.take_warnings():
                print(line, file=sys.stderr)
        if started is None or not self.settings.enabled:
            return
        seconds = perf_counter() - started
        if seconds < self.settings.after:
            return
        self.notify(self.record(result, seconds))

    def record(self, result: Any, seconds: float) -> CellRecord:
        limit = self.settings.excerpt_length
        error = result.error_in_exec
        value = result.result
        return CellRecord(
            notebook=notebook_name(self.shell),
            cell_number=result.execution_count,
            seconds=seconds,
            host=self.host,
            excerpt=None if error is not None or value is None else safe_excerpt(value, limit),
            error=None if error is None else describe_error(error, limit),
            note=self.settings.message,
        )

    def notify(self, record: CellRecord) -> None:
        self.sender.submit(compose(record), title(record), self.settings.backend)
