"""`%autonotify` and `%notify`: thin argument handling over the watcher and its settings.

Imported the first time one of the magics is used (the extension registers two small functions
that call in here), so a kernel start does not pay for it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from ..common.autonotify import AFTER_MAX, BY_NAME, memory_interrupt_problem
from ..common.text import human_duration
from .message import compose_note
from .presence import status_line
from .watcher import RunWatcher, _host


def number(text: str, what: str, example: str) -> float:
    """The number `text` spells, else the one-line refusal saying what was expected, with an example."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r} (e.g. {example})") from None


def seconds(text: str) -> float:
    text = unquote(text)
    value = number(text, "a number of seconds", "-a 120")
    high = AFTER_MAX  # beyond it the setting would fall back to the default
    if not 0 <= value <= high:
        raise argparse.ArgumentTypeError(f"seconds must be a number from 0 to {high:g}, got {text!r}")
    return value + 0.0  # -0 becomes 0


def in_range(name: str, value: float, text: str) -> float:
    """`value` when the setting `name` (common/autonotify.py) takes it, else the one-line refusal
    naming its range: the default in its place would come with a line naming c.AutoNotify.<name>,
    a config name the user did not type."""
    setting = BY_NAME[name]
    if not setting.usable(value)[0]:
        raise argparse.ArgumentTypeError(f"{setting.expected()}, got {text!r}")
    return value + 0.0  # -0 becomes 0


def live_every(text: str) -> float:
    return in_range("live_every", seconds(text), text)


def fraction(name: str) -> Callable[[str], float]:
    """The argument type of a flag setting the fraction `name` (--memory-warn, --memory-interrupt)."""

    def parse(text: str) -> float:
        text = unquote(text)
        return in_range(name, number(text, "a fraction", "0.9"), text)

    return parse


def unquote(text: str) -> str:
    """IPython splits magic arguments without removing quotes: `-m 'done!'` arrives quoted."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


@magic_arguments()
@argument(
    "-a",
    "--after",
    type=seconds,
    metavar="SECONDS",
    help="notify about runs (or cells, with --per cell) taking at least this long",
)
@argument(
    "--per",
    choices=["run", "cell"],
    help="run: one message per run of cells less than run_gap apart (default); cell: one per long cell",
)
@argument(
    "--when",
    choices=["away", "always"],
    help="away: no message while you look at the notebook's page (default); always: every message",
)
@argument(
    "--input-after",
    type=seconds,
    metavar="SECONDS",
    help="notify once when a cell has waited this long for input() or getpass() (0: never)",
)
@argument(
    "--memory-warn",
    type=fraction("memory_warn"),
    metavar="F",
    help="one message per run whose memory use passes this fraction of the limit (default 0.9; 0: never)",
)
@argument(
    "--memory-interrupt",
    type=fraction("memory_interrupt"),
    metavar="F",
    help="interrupt the cell at this fraction of the memory limit, before the OOM killer ends the kernel "
    "(above --memory-warn; default 0: never)",
)
@argument(
    "--live",
    type=seconds,
    metavar="SECONDS",
    help="a run still going after this long gets a silent Telegram message, edited while it runs (0: never)",
)
@argument(
    "--live-every",
    type=live_every,
    metavar="SECONDS",
    help=f"seconds between edits of the live message ({BY_NAME['live_every'].low:g}-{BY_NAME['live_every'].high:g})",
)
@argument("-m", "--message", metavar="TEXT", help="text added to every notification")
@argument("--backend", metavar="NAME", help="ntfy backend to send through (default: ntfy.yml, else telegram)")
@argument("--off", action="store_true", help="stop notifying")
@argument("--status", action="store_true", help="show the current settings")
def autonotify(watcher: RunWatcher, line: str) -> None:
    """Send a notification when a run of cells (Run All, nbconvert, quick Shift-Enter) takes longer
    than a threshold (on by default)."""
    if line.split() and line.split()[0] in ("-h", "--help"):
        print(autonotify.__doc__)  # magic_arguments put the full usage there
        return
    try:
        args = parse_argstring(autonotify, line)
    except ValueError:  # shlex: the only ValueError parsing raises (argparse's own become UsageErrors)
        raise UsageError(
            f'%autonotify: a quote is not closed in {line.strip()!r}; close it, e.g. -m "Training done"'
        ) from None
    settings = watcher.settings
    if args.after is not None:
        settings.after = args.after
    if args.per is not None:
        settings.per = args.per
    if args.when is not None:
        settings.when = args.when
    if args.input_after is not None:
        settings.input_after = args.input_after
    memory_levels(settings, args.memory_warn, args.memory_interrupt)
    if args.live is not None:
        settings.live = args.live
    if args.live_every is not None:
        settings.live_every = args.live_every
    if args.message is not None:
        settings.message = unquote(args.message)
    if args.backend is not None:
        settings.backend = unquote(args.backend)
    if args.off:
        settings.enabled = False
    elif not args.status:
        settings.enabled = True
    print(status(watcher))


def memory_levels(settings: Any, warn: float | None, interrupt: float | None) -> None:
    """Both levels at once, checked as a pair first (an interrupt at or below the warning is refused)."""
    warn = settings.memory_warn if warn is None else warn
    interrupt = settings.memory_interrupt if interrupt is None else interrupt
    if memory_interrupt_problem(warn, interrupt):
        raise UsageError(
            f"%autonotify: --memory-interrupt {interrupt:g} must be above --memory-warn {warn:g} "
            "(or 0, off), e.g. --memory-warn 0.9 --memory-interrupt 0.95"
        )
    with settings.hold_trait_notifications():
        settings.memory_warn, settings.memory_interrupt = warn, interrupt


def memory_line(settings: Any) -> str:
    """`memory: cgroup v2 limit 8.0 GB; a message at 90% (--memory-warn); interrupt off (--memory-interrupt)`."""
    from ..common.memory import find_source

    source, problem = find_source()
    found = "not measurable here (no /proc/meminfo)" if source is None else source.describe()
    if problem:
        found += f" ({problem})"
    warn = f"a message at {settings.memory_warn:.0%}" if settings.memory_warn else "no message"
    interrupt = (
        f"the cell interrupted at {settings.memory_interrupt:.0%}"
        if settings.memory_interrupt
        else "no interrupt before the OOM killer"
    )
    return f"memory: {found}; {warn} (--memory-warn), {interrupt} (--memory-interrupt)"


def status(watcher: RunWatcher) -> str:
    settings = watcher.settings
    sender = watcher.started_sender
    threshold = human_duration(settings.after)
    if not settings.enabled:
        state = "off"
    elif settings.per == "cell":
        state = f"on, one message per cell of {threshold} or more (--per cell)"
    else:
        state = (
            f"on, one message per run of {threshold} or more (--per run; cells less than "
            f"{settings.run_gap:g} s apart form one run)"
        )
    sent, failure = (sender.sent, sender.last_failure) if sender is not None else (0, None)
    return "\n".join(
        [
            f"autonotify: {state}",
            f"backend: {settings.backend or 'from ntfy.yml, else telegram'}",
            f"message: {settings.message or '(none)'}",
            f"images: {'the last one a run displayed is attached' if settings.images else 'off'}",
            "input: "
            + (
                f"one message when a cell waits {human_duration(settings.input_after)} for input()"
                if settings.input_after
                else "no message for cells waiting for input() (--input-after 0)"
            ),
            memory_line(settings),
            live_line(watcher),
            status_line(settings.when, settings.present_for),
            f"sent: {sent}; last failure: {failure or 'none'}",
        ]
    )


def live_line(watcher: RunWatcher) -> str:
    """What `%autonotify --status` says about live messages (kernel/live.py)."""
    settings = watcher.settings
    if not settings.live:
        return "live: off (--live 0)"
    if watcher.live_cannot is not None:
        return f"live: none, {watcher.live_cannot}"
    if settings.backend not in ("", "telegram"):
        return f"live: none, live messages need Telegram (backend: {settings.backend})"
    return (
        f"live: a silent Telegram message once a run has taken {human_duration(settings.live)}, "
        f"edited every {settings.live_every:g} s while its text changes"
    )


def notify(watcher: RunWatcher, line: str) -> None:
    """Send one notification now and show its outcome under a later cell: `%notify Training finished`."""
    text = unquote(line.strip()).strip()
    if not text:
        raise UsageError("%notify needs a text to send, e.g. `%notify Training finished`")
    notebook, project = watcher.place()
    message, title = compose_note(text, notebook, project, _host())
    watcher.sender.submit(message, title, watcher.settings.backend, report=True)
