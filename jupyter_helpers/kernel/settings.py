"""Autonotify's options as traitlets, so users set `c.AutoNotify.after = 300` in their profile's
ipython_config.py (or ipython_kernel_config.py) like any IPython option.

A bad value (`float('inf')`, nan, a negative time, a string) must not stop the kernel or the sender:
it becomes the default, and one line saying so is shown under the next cell.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from traitlets import Bool, CaselessStrEnum, Float, Int, TraitError, Unicode
from traitlets.config import Configurable


class _Forgiving:
    """Mixin for a trait: a value the trait rejects (or a float that is not finite) becomes the
    default, and the AutoNotify object keeps a one-line notice for the user."""

    expected = "a valid value"

    def validate(self, obj: Any, value: Any) -> Any:
        try:
            checked = super().validate(obj, value)  # type: ignore[misc]
            if not (isinstance(checked, float) and not math.isfinite(checked)):
                return checked
        except TraitError:
            pass
        if isinstance(obj, AutoNotify):
            name, default = self.name, self.default_value  # type: ignore[attr-defined]
            notice = f"jupyter-helpers: c.AutoNotify.{name} = {value!r} is not {self.expected}; using {default!r}"
            obj.notices.append(notice)
        return self.default_value  # type: ignore[attr-defined]


class Seconds(_Forgiving, Float):
    def __init__(self, default: float, low: float, high: float, **kwargs: Any) -> None:
        super().__init__(default, min=low, max=high, **kwargs)
        self.expected = f"a number of seconds from {low:g} to {high:g}"


class Count(_Forgiving, Int):
    def __init__(self, default: int, low: int, high: int, **kwargs: Any) -> None:
        super().__init__(default, min=low, max=high, **kwargs)
        self.expected = f"a whole number from {low} to {high}"


class Choice(_Forgiving, CaselessStrEnum):
    def __init__(self, values: list[str], default: str, **kwargs: Any) -> None:
        super().__init__(values, default, **kwargs)
        self.expected = "one of " + ", ".join(repr(value) for value in values)


class Flag(_Forgiving, Bool):
    expected = "True or False"


class Text(_Forgiving, Unicode):
    expected = "a string"


class AutoNotify(Configurable):
    AFTER_MAX = 10_000_000.0

    enabled = Flag(True, help="Notify about long runs from the start of every kernel.").tag(config=True)
    after = Seconds(
        60.0, 0, AFTER_MAX, help="Seconds a run (or, with per='cell', a cell) must take to send a notification."
    ).tag(config=True)
    run_gap = Seconds(
        1.0,
        0,
        3600,
        help="Cells starting less than this many seconds after the previous one ended "
        "belong to the same run (Run All, nbconvert, quick Shift-Enter).",
    ).tag(config=True)
    per = Choice(["run", "cell"], "run", help="'run': one message per run of cells; 'cell': one per long cell.").tag(
        config=True
    )
    when = Choice(
        ["away", "always"],
        "away",
        help="'away': no message while a page showing the notebook has focus and had input within "
        "present_for seconds; 'always': every message is sent.",
    ).tag(config=True)
    present_for = Seconds(
        120.0,
        0,
        86400,
        help="Seconds since the last input in a focused notebook page during which the user "
        "counts as looking (with when='away').",
    ).tag(config=True)
    input_after = Seconds(
        30.0,
        0,
        10_000_000,
        help="Seconds a cell may wait for input() or getpass() before one message quotes "
        "its prompt (0 turns these messages off).",
    ).tag(config=True)
    images = Flag(True, help="Attach the last image a run displayed (a plot) to its message.").tag(config=True)
    message = Text("", help="Text added to every notification (e.g. what to do next).").tag(config=True)
    backend = Text("", help="ntfy backend to use ('' = the backends in ntfy.yml, else telegram).").tag(config=True)
    send_timeout = Seconds(30.0, 1, 3600, help="Seconds a send may take before it is abandoned.").tag(config=True)
    excerpt_length = Count(200, 0, 4096, help="Characters of the run's last result shown in a notification.").tag(
        config=True
    )

    def __init__(self, **kwargs: Any) -> None:
        self.notices: deque[str] = deque()  # filled while config loads, so before super().__init__
        super().__init__(**kwargs)
