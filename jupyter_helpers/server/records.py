"""The files kept per kernel in the runtime dir, beside its connection file (`kernel-<id>.json`):
the presence file (server/presence.py writes it), the live record and the memory peak (the kernel
writes them, the server takes them at a death), and the shutdown notice (written here). None
outlives its kernel: whatever the kernel or its death left goes once the kernel is gone.

    server stop hook  announce_shutdown: a notice per kernel, before Jupyter interrupts them
    server exit       sweep: every record whose kernel's connection file is gone (jupyter_client
                      removes it once the kernel process has ended), so records of kernels of
                      another server sharing the runtime dir, still running, stay
    server start      sweep: what a server killed outright left
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..common.live_record import LIVE_DIR
from ..common.memory import PEAK_DIR
from ..common.presence import PRESENCE_DIR, check_private_folder
from ..common.shutdown import SHUTDOWN_DIR, announce, shutdown_file

RECORD_DIRS = (PRESENCE_DIR, LIVE_DIR, PEAK_DIR, SHUTDOWN_DIR)


def announce_shutdown(folder: Path, kernel_ids: Iterable[str], log: Any) -> None:
    """Tells each kernel that its server shuts it down (common/shutdown.py), so that a cell it
    interrupts is told as stopped, not failed."""
    for kernel_id in kernel_ids:
        try:
            announce(shutdown_file(folder, kernel_id))
        except ValueError:  # not a kernel id that names a file
            continue
        except OSError as exc:
            log.warning(
                "jupyter-helpers: cannot tell the kernels that the server shuts down (%s); a cell "
                "it stops is reported as interrupted (KeyboardInterrupt)",
                exc,
            )
            return


def sweep(folder: Path) -> None:
    """Removes every record of a kernel whose connection file is gone (kernels of any server
    sharing `folder` keep theirs while they run)."""
    for name in RECORD_DIRS:
        try:
            check_private_folder(folder / name)
            entries = list((folder / name).glob("*.json"))
        except OSError:
            continue
        for path in entries:
            if not (folder / f"kernel-{path.stem}.json").exists():
                path.unlink(missing_ok=True)
