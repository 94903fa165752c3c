"""The presence file: what the server writes about the pages showing a kernel's notebook, and what
the kernel reads when a message is about to go out (standard library only: both sides use it).

One small JSON file per kernel, `<runtime dir>/jupyter-helpers-presence/<kernel id>.json`, beside
the kernel's connection file: {"kernel": id, "pages": [PageRecord, ...]}. Only canonical UUIDs
name a file, so a kernel id can never point outside the folder.

The folder must be the user's own and closed to others (0700): in a shared runtime folder another
user could otherwise plant a record saying "looking" and hold this user's messages. Both sides
refuse any other folder: the server writes nothing there, the kernel reads nothing (and sends).
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import uuid
from pathlib import Path
from typing import TypedDict

PRESENCE_DIR = "jupyter-helpers-presence"
HEARTBEAT_SECONDS = 10.0  # a focused page reports at least this often
STALE_AFTER = 3 * HEARTBEAT_SECONDS  # a report older than this comes from a page that may be gone
MAX_FILE_BYTES = 64 * 1024


class PageRecord(TypedDict):
    """One page's latest state, in server clock times (the page sends ages, never times)."""

    page: str
    focused: bool
    visible: bool
    closed: bool
    reported: float
    last_input: float | None


def presence_file(runtime_dir: str | os.PathLike[str], kernel_id: str) -> Path:
    if str(uuid.UUID(kernel_id)) != kernel_id:
        raise ValueError(f"not a canonical kernel id: {kernel_id!r}")
    return Path(runtime_dir) / PRESENCE_DIR / f"{kernel_id}.json"


def check_private_folder(folder: Path) -> None:
    """Raises OSError, saying what to do, unless `folder` is a plain folder (not a link) owned by
    this user with no access for anyone else."""
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise OSError(f"{folder} is not a plain folder; remove it")
    if info.st_uid != os.getuid():
        raise OSError(f"{folder} belongs to another user (uid {info.st_uid}); remove it")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise OSError(f"{folder} is open to other users (mode {stat.S_IMODE(info.st_mode):o}); "
                      f"run `chmod 700 {folder}` or remove it")


def read_presence(path: Path | None) -> dict | None:
    """The recorded presence, or None if there is none or it cannot be read as we wrote it
    (including a file of another user's, or one in a folder others can write to)."""
    if path is None:
        return None
    try:
        check_private_folder(path.parent)
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with open(handle, "rb") as file:
            if os.fstat(file.fileno()).st_uid != os.getuid():
                return None
            raw = file.read(MAX_FILE_BYTES + 1)
        data = json.loads(raw) if len(raw) <= MAX_FILE_BYTES else None
    except (OSError, ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("pages"), list) else None


def write_private_json(path: Path, data: object) -> None:
    """Atomically (temp file + rename in the same folder), readable by the owner only, in a folder
    only the owner can use (created so when missing)."""
    folder = path.parent
    folder.mkdir(mode=0o700, exist_ok=True)
    check_private_folder(folder)
    handle, temp = tempfile.mkstemp(dir=folder, prefix=".", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise
