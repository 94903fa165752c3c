"""`%autonotify` and `%notify`: thin argument handling over the watcher and its settings."""

from __future__ import annotations

import argparse
from typing import Any

from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from .message import TELEGRAM_LIMIT, clean, human_duration
from .settings import AutoNotify
from .watcher import CellWatcher, notebook_name


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r} (e.g. -a 120)") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"seconds must be a finite number >= 0, got {text!r}")
    return value


def unquote(text: str) -> str:
    """IPython splits magic arguments without removing quotes: `-m 'done!'` arrives quoted."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


@magics_class
class NotifyMagics(Magics):
    def __init__(self, shell: Any, settings: AutoNotify, watcher: CellWatcher) -> None:
        super().__init__(shell)
        self.settings = settings
        self.watcher = watcher

    @magic_arguments()
    @argument("-a", "--after", type=seconds, metavar="SECONDS", help="notify about cells running at least this long")
    @argument("-m", "--message", metavar="TEXT", help="text added to every notification")
    @argument("--backend", metavar="NAME", help="ntfy backend to send through (default: ntfy.yml, else telegram)")
    @argument("--off", action="store_true", help="stop notifying")
    @argument("--status", action="store_true", help="show the current settings")
    @line_magic
    def autonotify(self, line: str) -> None:
        """Send a notification whenever a cell runs longer than a threshold (on by default)."""
        args = parse_argstring(self.autonotify, line)
        if args.after is not None:
            self.settings.after = args.after
        if args.message is not None:
            self.settings.message = unquote(args.message)
        if args.backend is not None:
            self.settings.backend = unquote(args.backend)
        if not args.status:
            self.settings.enabled = not args.off
        print(self.status())

    def status(self) -> str:
        settings = self.settings
        sender = self.watcher.sender
        state = f"on for cells of {human_duration(settings.after)} or more" if settings.enabled else "off"
        lines = [
            f"autonotify: {state}",
            f"backend: {settings.backend or 'from ntfy.yml, else telegram'}",
            f"message: {settings.message or '(none)'}",
            f"sent: {sender.sent}; last failure: {sender.last_failure or 'none'}",
        ]
        return "\n".join(lines)

    @line_magic
    def notify(self, line: str) -> None:
        """Send one notification now: `%notify Training finished`."""
        where = notebook_name(self.shell) or "IPython"
        text = clean(f"🔔 {where}: {line.strip() or 'notification'}\nHost: {self.watcher.host}", TELEGRAM_LIMIT)
        self.watcher.sender.submit(text, where, self.settings.backend)
