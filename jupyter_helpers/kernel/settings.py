"""Autonotify's options as traitlets, so users set `c.AutoNotify.after = 300` in their profile's
ipython_config.py (or ipython_kernel_config.py) like any IPython option.

Every trait is built from common/autonotify.py, the one definition the server and `status` read
too: a setting is added there, not here. A bad value (`float('inf')`, nan, a negative time, a
string) must not stop the kernel or the sender: it becomes the default, and the shared one line
saying so is shown under the next cell.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from traitlets import Bool, CaselessStrEnum, Float, Int, TraitType, Unicode, observe
from traitlets.config import Configurable

from ..common.autonotify import (
    CHOICE,
    COUNT,
    FLAG,
    FRACTION,
    SECONDS,
    SETTINGS,
    TEXT,
    Setting,
    memory_interrupt_problem,
)


class _Checked:
    """Mixin for a trait: the shared rule (`Setting.check`) decides; a rejected value becomes the
    default and the AutoNotify object keeps the one-line notice for the user."""

    setting: Setting

    def validate(self, obj: Any, value: Any) -> Any:
        usable, notice = self.setting.check(value)
        if notice and isinstance(obj, AutoNotify):
            obj.notices.append(f"jupyter-helpers: {notice}")
        return usable


# The traitlets type of each kind: its `from_string` reads `--AutoNotify.after=300`, its help type
# shows in `%config AutoNotify`; `_Checked` replaces its validation.
_KINDS: dict[str, type[TraitType]] = {
    kind: type(base.__name__, (_Checked, base), {})
    for kind, base in (
        (SECONDS, Float),
        (COUNT, Int),
        (CHOICE, CaselessStrEnum),
        (FLAG, Bool),
        (TEXT, Unicode),
        (FRACTION, Float),
    )
}


def _trait(setting: Setting) -> TraitType:
    kind = _KINDS[setting.kind]
    if setting.kind == CHOICE:
        trait = kind(list(setting.choices), setting.default, help=setting.help)
    else:
        trait = kind(setting.default, help=setting.help)
    trait.setting = setting  # type: ignore[attr-defined]
    return trait.tag(config=True)


class AutoNotify(Configurable):
    """`c.AutoNotify.<name>`: one trait per setting of common/autonotify.py."""

    locals().update({setting.name: _trait(setting) for setting in SETTINGS})  # the class body's namespace

    if TYPE_CHECKING:  # the traits above, for mypy: each is what its Setting says

        def __getattr__(self, name: str) -> Any: ...

        def __setattr__(self, name: str, value: Any) -> None: ...

    def __init__(self, **kwargs: Any) -> None:
        self.notices: deque[str] = deque()  # filled while config loads, so before super().__init__
        super().__init__(**kwargs)

    @observe("memory_warn", "memory_interrupt")
    def _memory_levels(self, change: Any) -> None:
        """The pair rule (common/autonotify.py), once config has loaded and after every change:
        both values are final then, in whatever order the file gave them."""
        problem = memory_interrupt_problem(self.memory_warn, self.memory_interrupt)
        if problem:
            self.notices.append(f"jupyter-helpers: {problem}")
            self.set_trait("memory_interrupt", 0.0)
