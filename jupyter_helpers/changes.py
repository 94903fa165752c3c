"""The one place that writes the user's files: atomic, backed up, and exactly reversible.

A change set is a list of files to create or replace plus a manifest (JSON) recording, for every
file it touched, what was there before. Reverting replays the manifest backwards, so the user's
files come back byte for byte and every directory the change set created disappears again.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError

MANIFEST_NAME = "changes.json"
BACKUP_DIR_NAME = "backups"


class ChangeError(UserError):
    """A file could not be written; the message is one line the user can act on."""


@dataclass(frozen=True)
class FileChange:
    path: Path
    content: bytes


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _existing_ancestor(path: Path) -> Path:
    while not path.exists():
        path = path.parent
    return path


def _writable(directory: Path) -> bool:
    """Also refuses, for root, a directory whose mode has no write bit: the user marked it
    read-only on purpose and root's override would silently ignore that."""
    if not directory.is_dir() or not os.access(directory, os.W_OK):
        return False
    if os.geteuid() == 0:
        return bool(stat.S_IMODE(directory.stat().st_mode) & 0o222)
    return True


def check_writable(paths: list[Path]) -> None:
    for path in paths:
        target = _existing_ancestor(path.parent)
        if not _writable(target):
            raise ChangeError(
                f"cannot write {path}: {target} is not a writable directory "
                "(fix its permissions or choose another location)"
            )


def atomic_write(path: Path, content: bytes) -> None:
    """Temp file + rename, keeping the mode of a file it replaces."""
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else None
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _make_dirs(directory: Path, created: list[str]) -> None:
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for item in reversed(missing):
        item.mkdir()
        created.append(str(item))


class ChangeSet:
    """Changes recorded under `state_dir` (which the change set creates and removes itself)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.manifest_path = state_dir / MANIFEST_NAME

    def _load(self) -> dict:
        raw = _read(self.manifest_path)
        if raw is None:
            return {"files": [], "dirs": []}
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ChangeError(f"{self.manifest_path} is corrupt ({exc}); delete it and retry") from exc

    def recorded(self) -> bool:
        return self.manifest_path.exists()

    def plan(self, changes: list[FileChange]) -> list[tuple[str, Path]]:
        """What `apply` would do to each file: 'create', 'replace' (backed up) or 'unchanged'."""
        result = []
        for change in changes:
            try:
                current = _read(change.path)
            except OSError:  # e.g. a directory in the way: writing it will fail and roll back
                current = b""
            action = "create" if current is None else "unchanged" if current == change.content else "replace"
            result.append((action, change.path))
        return result

    def apply(self, changes: list[FileChange]) -> list[tuple[str, Path]]:
        plan = self.plan(changes)
        if all(action == "unchanged" for action, _ in plan):
            return plan
        check_writable([c.path for c in changes] + [self.manifest_path])
        manifest = self._load()
        known = {entry["path"] for entry in manifest["files"]}
        try:
            _make_dirs(self.state_dir, manifest["dirs"])
            for (action, path), change in zip(plan, changes, strict=True):
                if action != "unchanged":
                    self._write_recorded(manifest, known, action, path, change.content)
        except OSError as exc:
            self._save_quietly(manifest)
            self.revert()
            where = exc.filename or self.state_dir
            raise ChangeError(f"could not write {where}: {exc.strerror or exc}; nothing was changed") from exc
        return plan

    def _write_recorded(self, manifest: dict, known: set[str], action: str, path: Path, content: bytes) -> None:
        """Records (and backs up) a file before its first change, so revert knows its origin."""
        _make_dirs(path.parent, manifest["dirs"])
        if str(path) not in known:
            entry = {"path": str(path), "backup": None}
            if action == "replace":
                backup = self.state_dir / BACKUP_DIR_NAME / f"{len(manifest['files'])}-{path.name}"
                _make_dirs(backup.parent, manifest["dirs"])
                atomic_write(backup, path.read_bytes())
                entry["backup"] = str(backup)
            manifest["files"].append(entry)
            known.add(str(path))
            self._save(manifest)
        atomic_write(path, content)

    def _save_quietly(self, manifest: dict) -> None:
        try:
            self._save(manifest)
        except OSError:
            pass  # revert then works from what reached the disk

    def _save(self, manifest: dict) -> None:
        atomic_write(self.manifest_path, json.dumps(manifest, indent=2).encode())

    def revert(self) -> list[tuple[str, Path]]:
        """Restores every recorded file and removes what the change set created."""
        manifest = self._load()
        done = []
        for entry in reversed(manifest["files"]):
            path = Path(entry["path"])
            if entry["backup"] is None:
                if path.exists():
                    path.unlink()
                    done.append(("remove", path))
            else:
                backup = Path(entry["backup"])
                atomic_write(path, backup.read_bytes())
                backup.unlink()
                done.append(("restore", path))
        self.manifest_path.unlink(missing_ok=True)
        for directory in sorted(manifest["dirs"], key=len, reverse=True):
            try:
                Path(directory).rmdir()
            except OSError:
                pass  # the user (or IPython) put files there since: theirs to keep
        return done
