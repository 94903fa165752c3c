"""Cells waiting for `input()` or `getpass()`: one message once a cell has waited long enough.

ipykernel routes both through its kernel object's `_input_request(prompt, ident, parent, password)`.
That one method is wrapped on the instance (removed on unload), so cells that ask for nothing pay
nothing; a cell that asks starts one timer, cancelled by the answer. Terminal IPython has no such
kernel object and is left alone: its user is at the terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class InputWatch:
    __slots__ = ("_kernel",)

    def __init__(self) -> None:
        self._kernel: Any = None

    def attach(self, shell: Any, start_timer: Callable[[str], Any]) -> None:
        """`start_timer(prompt)`: returns something with `cancel()` (or None) for the wait."""
        kernel = getattr(shell, "kernel", None)
        original = getattr(kernel, "_input_request", None)
        if kernel is None or original is None:
            return

        def _input_request(prompt: str, *args: Any, **kwargs: Any) -> Any:
            timer = None
            try:
                timer = start_timer(str(prompt))
            except Exception:
                pass  # a message we cannot prepare must not cost the user their input()
            try:
                return original(prompt, *args, **kwargs)
            finally:
                if timer is not None:
                    timer.cancel()  # answered (or interrupted): nothing more is sent

        kernel._input_request = _input_request
        self._kernel = kernel

    def detach(self) -> None:
        kernel, self._kernel = self._kernel, None
        if kernel is not None and "_input_request" in vars(kernel):
            delattr(kernel, "_input_request")
