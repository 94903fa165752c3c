"""Is someone looking at this kernel's notebook? Read when a message is about to go out, never per cell.

The page reports focus, visibility and input to the server extension (server/presence.py), which
writes the latest state per kernel to the presence file (common/presence.py, which also holds the
pure decision `decide`, shared with the server's kernel-death messages).
The kernel finds that file beside its own connection file (the server starts kernels with their
connection files in its runtime dir). Standard library only: this runs inside user kernels.

Whenever the answer is uncertain (no file, an unreadable one, a stale or closed page, a kernel
that no Jupyter server started) the verdict is "away": better a message too many than a missed one.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from ..common.presence import Verdict, decide, presence_file, read_presence


def own_kernel() -> tuple[Path, str] | None:
    """(runtime dir, kernel id) when a Jupyter server started this kernel (ipykernel with a
    connection file named kernel-<id>.json); None in terminal IPython or an unusual launcher."""
    connect = sys.modules.get("ipykernel.connect")
    if connect is None:  # not running in ipykernel: do not import it just to find out
        return None
    try:
        connection_file = Path(connect.get_connection_file())
    except Exception:  # no kernel app running
        return None
    name = connection_file.name
    if not (name.startswith("kernel-") and name.endswith(".json")):
        return None
    return connection_file.parent, name[len("kernel-") : -len(".json")]


def own_kernel_file(make: Callable[[Path, str], Path] = presence_file) -> Path | None:
    """This kernel's presence file (or, with `make`, another file kept per kernel beside the
    connection file, such as its memory peak), if a Jupyter server started it."""
    kernel = own_kernel()
    if kernel is None:
        return None
    try:
        return make(*kernel)
    except ValueError:
        return None


def current_verdict(present_for: float, now: float | None = None) -> Verdict:
    """What this kernel knows right now (reads one small file)."""
    path = own_kernel_file()
    if path is None:
        return Verdict(False, "kernel not started by a Jupyter server: phone messages sent")
    return decide(read_presence(path), time.time() if now is None else now, present_for)


def status_line(when: str, present_for: float) -> str:
    """The line `%autonotify --status` shows about presence."""
    if when == "always":
        return "presence: not consulted (--when always): phone messages sent"
    return f"presence (--when away, input within {present_for:g} s): {current_verdict(present_for).reason}"
