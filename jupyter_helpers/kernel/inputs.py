"""Cells waiting for `input()` or `getpass()`: one message once a cell has waited long enough.

ipykernel routes both through its kernel object's `_input_request(prompt, ident, parent, password)`.
That one method is wrapped on the instance (removed on unload), so cells that ask for nothing pay
nothing; a cell that asks starts one timer, cancelled by the answer. Terminal IPython has no such
kernel object and is left alone: its user is at the terminal.

At most one message per cell while its prompts keep being answered: once a cell's wait was
reported, a prompt it asks within `input_after` seconds of the previous answer starts no timer
(someone is there, only answering more slowly than `input_after`: an `input()` in a loop sent one
message per prompt). A prompt asked after the cell ran that long on its own is a new wait.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


class InputWatch:
    __slots__ = ("_kernel", "_told_cell", "_quiet_for", "_quiet_until")

    def __init__(self) -> None:
        self._kernel: Any = None
        self._told_cell: Any = None  # the cell (execution count) whose wait was last reported
        self._quiet_for = 0.0  # its `input_after`
        self._quiet_until = 0.0  # its prompts asked before this (monotonic) start no timer

    def attach(self, shell: Any, start_timer: Callable[[str, Callable[[float], None]], Any]) -> None:
        """`start_timer(prompt, told)`: returns something with `cancel()` (or None) for the wait,
        and calls `told(seconds)` if it reports the wait after `seconds`."""
        kernel = getattr(shell, "kernel", None)
        original = getattr(kernel, "_input_request", None)
        if kernel is None or original is None:
            return

        def _input_request(prompt: str, *args: Any, **kwargs: Any) -> Any:
            cell = getattr(shell, "execution_count", None)
            timer = None
            if not (cell == self._told_cell and time.monotonic() < self._quiet_until):
                try:
                    timer = start_timer(str(prompt), lambda seconds: self._told(cell, seconds))
                except Exception:
                    pass  # a message we cannot prepare must not cost the user their input()
            try:
                return original(prompt, *args, **kwargs)
            finally:
                if timer is not None:
                    timer.cancel()  # answered (or interrupted): nothing more is sent
                if cell == self._told_cell:
                    self._quiet_until = time.monotonic() + self._quiet_for

        kernel._input_request = _input_request
        self._kernel = kernel

    def _told(self, cell: Any, seconds: float) -> None:
        """On the timer's thread: this cell's wait was reported."""
        self._told_cell, self._quiet_for = cell, seconds

    def detach(self) -> None:
        kernel, self._kernel = self._kernel, None
        if kernel is not None and "_input_request" in vars(kernel):
            delattr(kernel, "_input_request")
