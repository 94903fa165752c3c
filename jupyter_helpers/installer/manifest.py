"""What a change set asks for, records and reports: the change records (`FileChange`, `KeyChange`),
the manifest (one JSON file per change set: for every file written, the sha256 of what was
written and where the backup of what was there before is kept) with its validation, and
`FileOutcome`, what happened to one file.

The manifest is what lets `uninstall` tell ours from the user's: a file still holding what we
wrote is ours; one changed since is theirs. `applying` writes it before every write, `reverting`
reads it back (and recovers without it); `changes.ChangeSet` is the face both sit behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple, NotRequired, Protocol, TypedDict

from ..common.files import BadJson, atomic_write, load_json, read, sha256
from .json_keys import KeyRecord, Settings

BACKUP_DIR_NAME = "backups"
ORIGIN_SUFFIX = ".origin"

Recognise = Callable[[Path, bytes], bool]


class Action(StrEnum):
    CREATE = "create"
    REPLACE = "replace"  # a file of the user's at our path: backed up, then ours
    UPDATE = "update"
    UNCHANGED = "unchanged"
    KEPT = "kept"  # the user edited it since: theirs
    SHARED = "shared"  # still used by another profile
    REMOVE = "remove"
    RESTORE = "restore"
    UNDO_KEYS = "undo-keys"  # in a file the user owns, our keys put back (FileOutcome.keys_back)
    LOST = "lost"  # its backup was gone
    FAILED = "failed"
    NOTE = "note"


WRITES = frozenset({Action.CREATE, Action.REPLACE, Action.UPDATE})


@dataclass(frozen=True)
class FileChange:
    """A whole file jupyter-helpers owns."""

    path: Path
    content: bytes


@dataclass(frozen=True)
class KeyChange:
    """Keys to set in a JSON config file the user owns ({section: {key: value}}); a `Members`
    value shares a list-valued key instead of setting it."""

    path: Path
    keys: Settings


Change = FileChange | KeyChange


class FileOutcome(NamedTuple):
    """What happened to one file; `note` finishes the sentence for the user. A KeyChange's undo
    names the keys it put back and those it left because the user changed them since."""

    action: Action
    path: Path
    note: str = ""
    keys_back: tuple[str, ...] = ()
    keys_kept: tuple[str, ...] = ()


class Entry(TypedDict):
    path: str
    sha256: str | None  # of what we wrote last (None: known only by a backup's note)
    backup: str | None  # the file from before our first write
    # KeyChange entries only:
    keys: NotRequired[dict[str, KeyRecord]]
    sections: NotRequired[list[str]]  # sections we created
    existed: NotRequired[bool]
    exact: NotRequired[bool]  # nobody wrote the file between our writes: its backup is still its past


class Manifest(TypedDict):
    files: list[Entry]
    dirs: list[str]
    users: list[str]


class Store(Protocol):
    """Where a change set keeps its manifest and backups (`changes.ChangeSet`), as `applying` and
    `reverting` use it."""

    state_dir: Path
    manifest_path: Path
    backup_dir: Path
    neighbours: Callable[[], list[Path]]

    def load(self) -> Manifest | None: ...

    def save(self, record: Manifest) -> None: ...

    def own_dirs(self) -> set[str]: ...


def empty() -> Manifest:
    return {"files": [], "dirs": [], "users": []}


def load(path: Path) -> Manifest | None:
    """The manifest at `path`; an empty one when there is none; None when it is unreadable or not
    of this format (a damaged record: `reverting.recover` finds our files by content instead)."""
    try:
        raw = read(path)
        if raw is None:
            return empty()
        manifest = load_json(raw)
    except (OSError, BadJson):
        return None
    return manifest if isinstance(manifest, dict) and well_formed(manifest) else None  # type: ignore[return-value]


def save(path: Path, manifest: Manifest) -> None:
    atomic_write(path, (json.dumps(manifest, indent=2) + "\n").encode(), mode=0o600)


def well_formed(manifest: dict[str, Any]) -> bool:
    """Every field has the type the code relies on (a hand-edited or half-written one may not)."""

    def strings(value: object) -> bool:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)

    def keys_entry(entry: dict[str, Any]) -> bool:
        keys = entry.get("keys")
        return (
            isinstance(keys, dict)
            and all(isinstance(record, dict) and "value" in record for record in keys.values())
            and strings(entry.get("sections"))
            and isinstance(entry.get("existed"), bool)
            and isinstance(entry.get("exact"), bool)
        )

    files = manifest.get("files")
    return (
        strings(manifest.get("dirs"))
        and strings(manifest.get("users"))
        and isinstance(files, list)
        and all(
            isinstance(entry, dict)
            and isinstance(entry.get("path"), str)
            and all(isinstance(entry.get(key), str | None) for key in ("backup", "sha256"))
            and ("keys" not in entry or keys_entry(entry))
            for entry in files
        )
    )


def entries(manifest: Manifest) -> dict[str, Entry]:
    return {entry["path"]: entry for entry in manifest["files"]}


def is_ours(entry: Entry, path: Path, current: bytes, recognise: Recognise) -> bool:
    """By the recorded sha256; by content for an entry only a backup's note knew of."""
    recorded = entry.get("sha256")
    return sha256(current) == recorded if recorded else recognise(path, current)


def made_by_neighbours(records: list[Path], paths: list[Path], known: list[str]) -> list[str]:
    """Folders around `paths` that another record says jupyter-helpers made. Recording them too
    lets whichever change leaves last remove them (a folder goes only when empty)."""
    ours: set[str] = set()
    for record in records:
        try:
            manifest = load_json(read(record) or b"{}")
        except (OSError, BadJson):
            continue  # a damaged record: its folders stay, as before
        dirs = manifest.get("dirs", []) if isinstance(manifest, dict) else []
        ours |= {d for d in dirs if isinstance(d, str)} if isinstance(dirs, list) else set()
    around = {str(parent) for path in paths for parent in path.parents}
    return sorted((ours & around) - set(known))


# -- backups: the file from before our first write, with a note of where it came from ------------


def backup_of(entry: Entry) -> Path | None:
    return Path(entry["backup"]) if entry["backup"] else None


def original(entry: Entry) -> bytes | None:
    backup = backup_of(entry)
    return read(backup) if backup else None


def origin_note(backup: Path) -> Path:
    return backup.with_name(backup.name + ORIGIN_SUFFIX)


def drop_backups(backups: Sequence[Path | None]) -> None:
    for backup in backups:
        if backup is not None:
            backup.unlink(missing_ok=True)
            origin_note(backup).unlink(missing_ok=True)
