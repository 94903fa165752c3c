"""Wires autonotify into one IPython shell and takes it out again, leaving no callback behind."""

from __future__ import annotations

import atexit
import socket
import sys
from pathlib import Path
from typing import Any

from .. import installation
from .magics import NotifyMagics
from .sender import Sender
from .settings import AutoNotify
from .watcher import CellWatcher

_active: dict[int, CellWatcher] = {}  # per shell; the watcher holds its settings and sender


def sender_command(shell: Any) -> list[str]:
    """The Python recorded by `jupyter-helpers install` (it has ntfy), else this kernel's own."""
    record = installation.load(Path(shell.profile_dir.location))
    python = record.python if record else sys.executable
    return [python, "-P", "-m", "jupyter_helpers.notify.deliver"]


def load(shell: Any) -> None:
    if id(shell) in _active:
        return
    settings = AutoNotify(parent=shell)
    sender = Sender(sender_command(shell), settings.send_timeout)
    settings.observe(lambda change: setattr(sender, "timeout", change["new"]), names="send_timeout")
    watcher = CellWatcher(shell, settings, sender, socket.gethostname())
    shell.events.register("pre_run_cell", watcher.pre_run_cell)
    shell.events.register("post_run_cell", watcher.post_run_cell)
    shell.register_magics(NotifyMagics(shell, settings, watcher))
    atexit.register(sender.hand_off_pending)
    _active[id(shell)] = watcher


def unload(shell: Any) -> None:
    watcher = _active.pop(id(shell), None)
    if watcher is None:
        return
    shell.events.unregister("pre_run_cell", watcher.pre_run_cell)
    shell.events.unregister("post_run_cell", watcher.post_run_cell)
    atexit.unregister(watcher.sender.hand_off_pending)
