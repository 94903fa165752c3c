"""`c.AutoNotify`: every setting once (its default, what it accepts, its help), the one line that
names a bad value, and the config files IPython reads them from, in IPython's order.

One definition for three readers, so they cannot disagree: kernels build their traitlets
Configurable from SETTINGS (kernel/settings.py); the server (kernel deaths) and `jupyter-helpers
status` read the same files through `load`. A bad value never stops anything: it becomes the
default, and `check` gives the line that says so.

Standard library only (kernels of other environments import it): `load` takes traitlets' loader
module from its caller, as kernel, server and installer may import traitlets and this may not.

To add a setting: one `Setting(...)` in SETTINGS. Kernels then read it as `settings.<name>`
(`%config AutoNotify` lists it), the server as `load(...).values["<name>"]`.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any, NamedTuple

from . import paths

SECTION = "AutoNotify"
# IPython reads ipython_config first, then the app's own file (a kernel's: ipython_kernel_config).
CONFIG_NAMES = ("ipython_config", "ipython_kernel_config")

SECONDS, COUNT, CHOICE, FLAG, TEXT, FRACTION = "seconds", "count", "choice", "flag", "text", "fraction"


class Setting(NamedTuple):
    """One `c.AutoNotify.<name>`: its kind (SECONDS, COUNT, CHOICE, FLAG, TEXT, FRACTION), its
    default, and for SECONDS, COUNT and FRACTION the range, for CHOICE the values."""

    name: str
    kind: str
    default: Any
    help: str
    low: float = 0
    high: float = 0
    choices: tuple[str, ...] = ()

    def expected(self) -> str:
        """What a good value is, as the one-line notice says it."""
        if self.kind == SECONDS:
            return f"a number of seconds from {self.low:g} to {self.high:g}"
        if self.kind == COUNT:
            return f"a whole number from {self.low:g} to {self.high:g}"
        if self.kind == FRACTION:
            return f"a fraction from {self.low:g} to {self.high:g} (0 turns it off)"
        if self.kind == CHOICE:
            return "one of " + ", ".join(repr(choice) for choice in self.choices)
        return "True or False" if self.kind == FLAG else "a string"

    def usable(self, value: Any) -> tuple[bool, Any]:
        """(True, the value to use) or (False, None). Choices are caseless; 0 and 1 count as a flag
        (as traitlets' Bool takes them)."""
        if self.kind in (SECONDS, COUNT, FRACTION):
            if isinstance(value, bool) or not isinstance(value, int if self.kind == COUNT else (int, float)):
                return False, None
            number = value if self.kind == COUNT else float(value)
            return math.isfinite(number) and self.low <= number <= self.high, number
        if self.kind == CHOICE:
            found = isinstance(value, str) and value.lower() in self.choices
            return found, value.lower() if found else None
        if self.kind == FLAG:
            return (True, bool(value)) if isinstance(value, bool) or value in (0, 1) else (False, None)
        return isinstance(value, str), value

    def check(self, value: Any, where: str = "") -> tuple[Any, str | None]:
        """(the value to use, None), or (the default, the one line saying so); `where` names the
        file for readers that know it (`in /etc/ipython/ipython_config.py`)."""
        ok, usable = self.usable(value)
        if ok:
            return usable, None
        place = f" in {where}" if where else ""
        return self.default, (
            f"c.{SECTION}.{self.name} = {value!r}{place} is not {self.expected()}; using {self.default!r}"
        )


AFTER_MAX = 10_000_000.0

SETTINGS = (
    Setting("enabled", FLAG, True, "Notify about long runs from the start of every kernel."),
    Setting(
        "after",
        SECONDS,
        60.0,
        "Seconds a run (or, with per='cell', a cell) must take to send a notification.",
        0,
        AFTER_MAX,
    ),
    Setting(
        "run_gap",
        SECONDS,
        1.0,
        "Cells starting less than this many seconds after the previous one ended "
        "belong to the same run (Run All, nbconvert, quick Shift-Enter).",
        0,
        3600,
    ),
    Setting(
        "per",
        CHOICE,
        "run",
        "'run': one message per run of cells; 'cell': one per long cell.",
        choices=("run", "cell"),
    ),
    Setting(
        "when",
        CHOICE,
        "away",
        "'away': no message while a page showing the notebook has focus and had input within "
        "present_for seconds; 'always': every message is sent.",
        choices=("away", "always"),
    ),
    Setting(
        "present_for",
        SECONDS,
        120.0,
        "Seconds since the last input in a focused notebook page during which the user "
        "counts as looking (with when='away').",
        0,
        86400,
    ),
    Setting(
        "input_after",
        SECONDS,
        30.0,
        "Seconds a cell may wait for input() or getpass() before one message quotes "
        "its prompt (0 turns these messages off).",
        0,
        10_000_000,
    ),
    Setting("images", FLAG, True, "Attach the last image a run displayed (a plot) to its message."),
    Setting("message", TEXT, "", "Text added to every notification (e.g. what to do next)."),
    Setting("backend", TEXT, "", "ntfy backend to use ('' = the backends in ntfy.yml, else telegram)."),
    Setting("send_timeout", SECONDS, 30.0, "Seconds a send may take before it is abandoned.", 1, 3600),
    Setting(
        "live",
        SECONDS,
        300.0,
        "Seconds into a run after which it gets one silent live message on Telegram, edited in place "
        "while it runs (0: never).",
        0,
        AFTER_MAX,
    ),
    Setting(
        "live_every",
        SECONDS,
        60.0,
        "Seconds between looks at the live message (it is edited only when its text changed).",
        1,
        3600,
    ),
    Setting("excerpt_length", COUNT, 200, "Characters of the run's last result shown in a notification.", 0, 4096),
    Setting(
        "memory_warn",
        FRACTION,
        0.9,
        "One message per run whose memory use passes this fraction of what the kernel may use "
        "(its memory cgroup's limit, else the machine's memory); 0 turns it off.",
        0,
        0.99,  # a level of memory use: at 100% the OOM killer has acted already
    ),
    Setting(
        "memory_interrupt",
        FRACTION,
        0.0,
        "Interrupt the running cell (KeyboardInterrupt, as the Interrupt button) when memory use "
        "passes this fraction, so the OOM killer does not end the kernel and its variables; "
        "0 (the default) turns it off; when set, above memory_warn.",
        0,
        0.99,
    ),
)
BY_NAME = {setting.name: setting for setting in SETTINGS}


def memory_interrupt_problem(warn: float, interrupt: float) -> str | None:
    """An interrupt at or below the warning would come before it: the line saying it is off
    (kernels then use 0), or None when the pair is usable."""
    if interrupt and interrupt <= warn:
        return (
            f"c.{SECTION}.memory_interrupt = {interrupt!r} is not above memory_warn ({warn!r}); using 0.0 (off); "
            "set memory_warn below it, or raise it above memory_warn"
        )
    return None


def config_folders(profile_dir: Path) -> list[Path]:
    """The folders IPython reads config from, lowest priority first: /etc/ipython,
    /usr/local/etc/ipython, this environment's etc/ipython (where `install --sys-prefix` and hub
    admins write; IPython skips it when it is one of the system folders), then the profile."""
    system = [Path(folder) for folder in paths.IPYTHON_SYSTEM_DIRS]
    environment = Path(sys.prefix) / "etc" / "ipython"
    return [*reversed(system), *([] if environment in system else [environment]), profile_dir]


def config_files(profile_dir: Path) -> list[Path]:
    """Every file a kernel of this profile reads, lowest priority first: ipython_config in each
    folder, then ipython_kernel_config in each; in one folder NAME.py, then NAME.json (JSON wins)."""
    return [
        folder / f"{name}{suffix}"
        for name in CONFIG_NAMES
        for folder in config_folders(profile_dir)
        for suffix in paths.CONFIG_SUFFIXES
    ]


class Loaded(NamedTuple):
    """The settings a kernel of the profile starts with, and why any differ from what was written."""

    values: dict[str, Any]  # every setting, each checked
    sources: dict[str, Path]  # the file that set each setting a file sets
    unusable_files: list[str]  # one line per file skipped
    bad_values: list[str]  # one line per value replaced by its default

    @property
    def notices(self) -> list[str]:
        return self.unusable_files + self.bad_values


def load(profile_dir: Path, loaders: Any) -> Loaded:
    """The settings from every file a kernel reads, as the kernel takes them: later files win a
    setting; a file that cannot be loaded is skipped with one line (IPython logs it and goes on);
    a bad value gives its default and its line. `loaders` is `traitlets.config.loader`."""
    written: dict[str, tuple[Any, Path]] = {}
    files: list[str] = []
    for path in config_files(profile_dir):
        if not path.is_file():
            continue
        loader = loaders.PyFileConfigLoader if path.suffix == ".py" else loaders.JSONFileConfigLoader
        try:  # user code in a .py config can raise anything, exit() included
            section = loader(path.name, path=str(path.parent)).load_config().get(SECTION)
        except (Exception, SystemExit) as exc:
            files.append(f"{cannot_load(path, exc)}; its settings are not used")
            continue
        if section is None:
            continue
        if not isinstance(section, dict):  # IPython itself stops at such a file: no kernel starts
            files.append(
                f"cannot load {path} ({SECTION} is {section!r}, not a section of settings: write "
                f"{SECTION}.name = value; IPython cannot start with it); its settings are not used"
            )
            continue
        for name, value in section.items():
            if name in BY_NAME:
                written[name] = (value, path)
    values = {setting.name: setting.default for setting in SETTINGS}
    bad: list[str] = []
    for name, (value, path) in written.items():
        values[name], notice = BY_NAME[name].check(value, str(path))
        if notice:
            bad.append(notice)
    return Loaded(values, {name: path for name, (_, path) in written.items()}, files, bad)


def cannot_load(path: Path, exc: BaseException) -> str:
    """The one line for a config file its loader refused (a SyntaxError, exit() in a .py file)."""
    text = str(exc).strip().splitlines()
    return f"cannot load {path} ({type(exc).__name__}: {text[0] if text else ''})"
