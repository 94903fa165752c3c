"""`%autonotify` and `%notify`: thin argument handling over the watcher and its settings.

Imported the first time one of the magics is used (the extension registers two small functions
that call in here), so a kernel start does not pay for it.
"""

from __future__ import annotations

import argparse

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from ..common.autonotify import AFTER_MAX
from ..common.text import human_duration
from .message import compose_note
from .presence import status_line
from .watcher import RunWatcher, _host


def seconds(text: str) -> float:
    text = unquote(text)
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r} (e.g. -a 120)") from None
    high = AFTER_MAX  # beyond it the setting would fall back to the default
    if not 0 <= value <= high:
        raise argparse.ArgumentTypeError(f"seconds must be a number from 0 to {high:g}, got {text!r}")
    return value + 0.0  # -0 becomes 0


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
    if args.message is not None:
        settings.message = unquote(args.message)
    if args.backend is not None:
        settings.backend = unquote(args.backend)
    if args.off:
        settings.enabled = False
    elif not args.status:
        settings.enabled = True
    print(status(watcher))


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
            status_line(settings.when, settings.present_for),
            f"sent: {sent}; last failure: {failure or 'none'}",
        ]
    )


def notify(watcher: RunWatcher, line: str) -> None:
    """Send one notification now and show its outcome under a later cell: `%notify Training finished`."""
    text = unquote(line.strip()).strip()
    if not text:
        raise UsageError("%notify needs a text to send, e.g. `%notify Training finished`")
    notebook, project = watcher.place()
    message, title = compose_note(text, notebook, project, _host())
    watcher.sender.submit(message, title, watcher.settings.backend, report=True)
