"""The live record: which Telegram message shows a kernel's run in progress, so that the server
can end it when the kernel dies (a dead kernel cannot). Standard library only: kernel and server.

One small JSON file per kernel with a live message, `<runtime dir>/jupyter-helpers-live/<kernel
id>.json`, beside the presence folder and under the same rules (a private folder, canonical UUIDs
only): written by the kernel when Telegram returns the message's id and after each edit, removed
when the live message ends; read and removed by the server at the kernel's death.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypedDict

from .presence import kernel_file, read_private_json, write_private_json

LIVE_DIR = "jupyter-helpers-live"


class LiveRecord(TypedDict):
    kernel: str
    message_id: int
    text: str  # what the message says now
    notebook: str | None
    project: str | None
    started: float  # the run's start, time.time()
    backend: str  # the backend setting the kernel used ('' = ntfy.yml's)


def live_file(runtime_dir: str | os.PathLike[str], kernel_id: str) -> Path:
    return kernel_file(runtime_dir, LIVE_DIR, kernel_id)


def read_live(path: Path) -> LiveRecord | None:
    data = read_private_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("message_id"), int):
        return None
    if not isinstance(data.get("started"), (int, float)) or not isinstance(data.get("text"), str):
        return None
    return LiveRecord(
        kernel=str(data.get("kernel", "")),
        message_id=data["message_id"],
        text=data["text"],
        notebook=data["notebook"] if isinstance(data.get("notebook"), str) else None,
        project=data["project"] if isinstance(data.get("project"), str) else None,
        started=float(data["started"]),
        backend=str(data.get("backend") or ""),
    )


def write_live(path: Path, record: LiveRecord) -> None:
    write_private_json(path, record)


def remove_live(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
