"""Wires autonotify into one IPython shell and takes it out again, leaving no callback behind.

Loaded in every kernel by the startup file, so it imports only the hooks' own small modules:
the magics, the message text, the sender and the installation record are imported when first used.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .memory import MemoryWatch
from .settings import AutoNotify
from .watcher import RunWatcher

_active: dict[int, RunWatcher] = {}  # per shell; the watcher holds its settings and sender
_unwatch: dict[int, Any] = {}  # per shell: undoes stopping.watch
_memory: dict[int, MemoryWatch] = {}  # per shell


def _sender_factory(shell: Any, settings: AutoNotify) -> Callable[[], Any]:
    def make_sender() -> Any:
        from ..common.child import child_command
        from ..common.sender import Sender

        def locate() -> list[str]:
            return child_command(Path(shell.profile_dir.location))

        return Sender(locate(), settings.send_timeout, locate=locate)

    return make_sender


class _Magic:
    """A small stand-in registered as the magic: imports the real one (kernel/magics.py) on first
    use, and its help from there when asked (`%autonotify?`), so the help has one source."""

    def __init__(self, watcher: RunWatcher, name: str) -> None:
        self.watcher, self.__name__ = watcher, name

    def __call__(self, line: str) -> None:
        from . import magics

        getattr(magics, self.__name__)(self.watcher, line)

    @property
    def __doc__(self) -> str | None:  # type: ignore[override]
        from . import magics

        return getattr(magics, self.__name__).__doc__


def _launch() -> Any:
    """When nbconvert or papermill started this kernel, what its command line says (read now:
    the order of kernel starts is only known at start). Other kernels skip the parsing module."""
    try:
        with open(f"/proc/{os.getppid()}/cmdline", "rb") as handle:
            command = handle.read(65536)
    except OSError:
        return None
    if b"nbconvert" not in command and b"papermill" not in command:
        return None
    from .names import launch_from_parent

    return launch_from_parent()


def load(shell: Any) -> None:
    if id(shell) in _active:
        return
    settings = AutoNotify(parent=shell)
    watcher = RunWatcher(shell, settings, _sender_factory(shell, settings), _launch())
    watcher.capture.attach(shell)
    watcher.printed.attach(sys.stdout)
    watcher.inputs.attach(shell, watcher.input_timer)
    shell.events.register("pre_run_cell", watcher.pre_run_cell)
    shell.events.register("post_run_cell", watcher.post_run_cell)
    memory = _memory[id(shell)] = MemoryWatch(watcher)
    shell.events.register("pre_run_cell", memory.pre_run_cell)
    shell.events.register("post_run_cell", memory.post_run_cell)
    for name in ("autonotify", "notify"):
        shell.register_magic_function(_Magic(watcher, name), "line", name)
    shell.configurables.append(settings)  # %config AutoNotify.after = 300 works too
    atexit.register(watcher.close)
    _active[id(shell)] = watcher
    from .stopping import watch

    _unwatch[id(shell)] = watch(watcher.stopped, watcher.launch.tool if watcher.launch else None)


def unload(shell: Any) -> None:
    watcher = _active.pop(id(shell), None)
    if watcher is None:
        return
    shell.events.unregister("pre_run_cell", watcher.pre_run_cell)
    shell.events.unregister("post_run_cell", watcher.post_run_cell)
    memory = _memory.pop(id(shell))
    shell.events.unregister("pre_run_cell", memory.pre_run_cell)
    shell.events.unregister("post_run_cell", memory.post_run_cell)
    memory.close()
    watcher.capture.detach()
    watcher.printed.detach()
    watcher.inputs.detach()
    if watcher.settings in shell.configurables:
        shell.configurables.remove(watcher.settings)
    atexit.unregister(watcher.close)
    _unwatch.pop(id(shell))()
    watcher.close(hand_off=False)  # what it still had goes to the sender, whose worker delivers it
