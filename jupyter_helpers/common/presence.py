"""The presence file: what the server writes about the pages showing a kernel's notebook, and what
the kernel reads when a message is about to go out (standard library only: both sides use it);
and `decide`, the pure rule "is the user looking?", used by the kernel for its run messages and
by the server for a kernel's death.

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
from dataclasses import dataclass
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
    return kernel_file(runtime_dir, PRESENCE_DIR, kernel_id)


def kernel_file(runtime_dir: str | os.PathLike[str], folder: str, kernel_id: str) -> Path:
    """`<runtime dir>/<folder>/<kernel id>.json`: one file per kernel beside its connection file
    (presence here, the memory peak in common/memory.py); ValueError unless the id is a canonical UUID."""
    if str(uuid.UUID(kernel_id)) != kernel_id:
        raise ValueError(f"not a canonical kernel id: {kernel_id!r}")
    return Path(runtime_dir) / folder / f"{kernel_id}.json"


def check_private_folder(folder: Path) -> None:
    """Raises OSError, saying what to do, unless `folder` is a plain folder (not a link) owned by
    this user with no access for anyone else."""
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode):
        raise OSError(f"{folder} is not a plain folder; remove it")
    if info.st_uid != os.getuid():
        raise OSError(f"{folder} belongs to another user (uid {info.st_uid}); remove it")
    if stat.S_IMODE(info.st_mode) & 0o077:
        raise OSError(
            f"{folder} is open to other users (mode {stat.S_IMODE(info.st_mode):o}); "
            f"run `chmod 700 {folder}` or remove it"
        )


def read_presence(path: Path | None) -> dict | None:
    """The recorded presence, or None if there is none or it cannot be read as we wrote it
    (including a file of another user's, or one in a folder others can write to)."""
    data = read_private_json(path)
    return data if isinstance(data, dict) and isinstance(data.get("pages"), list) else None


def read_private_json(path: Path | None) -> object:
    """The JSON in a file written by `write_private_json`, or None when there is none or it cannot
    be trusted: another user's file, a link, one in a folder others can use, or too big."""
    if path is None:
        return None
    try:
        check_private_folder(path.parent)
        handle = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with open(handle, "rb") as file:
            if os.fstat(file.fileno()).st_uid != os.getuid():
                return None
            raw = file.read(MAX_FILE_BYTES + 1)
        return json.loads(raw) if len(raw) <= MAX_FILE_BYTES else None
    except (OSError, ValueError, RecursionError):
        return None


@dataclass(frozen=True)
class Verdict:
    looking: bool
    reason: str  # for %autonotify --status: what the kernel knows, in words


def _number(page: dict, key: str) -> float | None:
    value = page.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _page_state(page: dict, now: float, present_for: float) -> tuple[bool, str]:
    """(looking, description) for one page's record."""
    reported = _number(page, "reported")
    last_input = _number(page, "last_input")
    if page.get("closed") is True:
        return False, "notebook page closed"
    if reported is None or now - reported > STALE_AFTER or reported > now + 5:
        return False, "notebook page silent" + (f" for {_ago(now - reported)}" if reported is not None else "")
    if page.get("visible") is not True:
        return False, "notebook page hidden"
    if page.get("focused") is not True:
        return False, "notebook page open but focus is elsewhere"
    if last_input is None:
        return False, "notebook page focused, no input yet"
    idle = now - last_input
    if idle > present_for:
        return False, f"notebook page focused, no input for {_ago(idle)}"
    return True, f"notebook page focused, last input {_ago(idle)} ago"


def decide(presence: dict | None, now: float, present_for: float) -> Verdict:
    """Looking means: some page showing this kernel's notebook has focus, is visible, reported
    within STALE_AFTER and had user input within `present_for` seconds of `now`."""
    if presence is None:
        return Verdict(False, "no notebook page has reported: phone messages sent")
    states = [_page_state(page, now, present_for) for page in presence["pages"] if isinstance(page, dict)]
    if not states:
        return Verdict(False, "no notebook page is open: phone messages sent")
    looking = [text for is_looking, text in states if is_looking]
    if looking:
        return Verdict(True, f"{looking[0]}: phone messages held")
    return Verdict(False, f"{states[-1][1]}: phone messages sent")


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
