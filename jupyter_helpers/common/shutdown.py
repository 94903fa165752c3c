"""The server's word to its kernels that it is shutting down, so that a cell it stops is told as
stopped, not as failed. Standard library only: the server writes it, kernels read it.

jupyter_server stops in this order (serverapp.py `_cleanup`): the extensions' stop hooks, then its
kernels, each interrupted first (jupyter_client's `shutdown_kernel`: SIGINT, so the running cell
ends with KeyboardInterrupt), then asked to shut down, then sent SIGTERM if it has not. So the
extension's stop hook writes one file per kernel, `<runtime dir>/jupyter-helpers-shutdown/<kernel
id>.json` (a private folder, canonical UUIDs only, as the presence file), before any of that; a
kernel whose cell ends with KeyboardInterrupt, or that gets SIGTERM, reads its own (one small file,
only then). The server removes the files once its kernels are gone (server/records.py).
"""

from __future__ import annotations

import os
from pathlib import Path

from .presence import kernel_file, read_private_json, write_private_json

SHUTDOWN_DIR = "jupyter-helpers-shutdown"
# a stopped run's words: `cell [3] stopped as the Jupyter server shut down after 5 min 04 s`
HOW = "as the Jupyter server shut down"


def shutdown_file(runtime_dir: str | os.PathLike[str], kernel_id: str) -> Path:
    return kernel_file(runtime_dir, SHUTDOWN_DIR, kernel_id)


def announce(path: Path) -> None:
    """The server is shutting down this kernel (raises OSError when the file cannot be written)."""
    write_private_json(path, {"kernel": path.stem})


def announced(path: Path | None) -> bool:
    """The kernel's server said it is shutting it down (a file as `announce` wrote it, in a
    private folder: another user cannot make a failure look like a shutdown)."""
    return isinstance(read_private_json(path), dict)
