"""The one place that writes the user's files: locked, atomic, backed up, reversible.

Two kinds of change, one machinery. A `FileChange` is a whole file jupyter-helpers owns (the
startup file, the server-extension file). A `KeyChange` sets a few keys in a JSON config file the
user owns (`jupyter_server_config.json` for `wsl`; the environment's `ipython_kernel_config.json`
for `install --sys-prefix`, whose extension list it shares through `json_keys.Members`): only those
keys, or those list items, are ours.

A change set records in a manifest (JSON), for every file it wrote, the sha256 of what it wrote
and where it keeps a backup of what was there before. That record is what makes the promises:

- a file still holding what we wrote is ours: uninstall removes it or restores the backup;
- a file the user changed since is theirs: it is never deleted or overwritten, only reported
  (and the original it replaced is put beside it, so nothing is stranded in our backups);
- in a file the user owns, undo puts back only the keys that still hold our values, and the
  exact original bytes only while the file is just as we left it;
- every read-modify-write holds the manifest's lock and reads again under it, so concurrent
  commands queue instead of backing up each other's files;
- if the manifest or a backup is lost, our files are still recognised by content (`recognise`)
  and each backup carries a note of where it came from.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple, NotRequired, TypedDict

from ..common.files import (
    BadJson,
    ChangeError,
    atomic_write,
    check_writable,
    file_mode,
    load_json,
    os_reason,
    read,
    sha256,
    sweep_temps,
    write_error,
    write_target,
)
from ..common.locks import locked, make_dirs, missing_dirs, remove_empty_dirs
from ..common.paths import MANIFEST_NAME
from . import json_keys
from .json_keys import KeyRecord, Settings

BACKUP_DIR_NAME = "backups"
ORIGIN_SUFFIX = ".origin"
ASIDE_SUFFIX = ".before-jupyter-helpers"

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
    UNDO_KEYS = "undo-keys"  # in a file the user owns, our keys put back (Outcome.keys_back)
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


class Outcome(NamedTuple):
    """What happened to one file; `note` finishes the sentence for the user. A KeyChange's undo
    names the keys it put back and those it left because the user changed them since."""

    action: Action
    path: Path
    note: str = ""
    keys_back: tuple[str, ...] = ()
    keys_kept: tuple[str, ...] = ()


class Entry(TypedDict):
    path: str
    sha256: str | None  # of what we wrote last
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


def _empty() -> Manifest:
    return {"files": [], "dirs": [], "users": []}


@dataclass
class _Journal:
    """What one `apply` did, so a failure can take back exactly that and nothing older."""

    writes: list[tuple[Path, bytes | None, int | None]] = field(default_factory=list)
    new_paths: set[str] = field(default_factory=set)
    new_files: list[Path] = field(default_factory=list)
    new_dirs: list[str] = field(default_factory=list)
    user_added: str | None = None


class ChangeSet:
    """Changes recorded under `state_dir` (which the change set creates and removes itself).

    `users` lets several profiles share one change set (the server extension's file): it is
    reverted only when the last of them leaves.
    """

    def __init__(self, state_dir: Path, owned: Path | None = None, neighbours: Callable[[], list[Path]] = list) -> None:
        """`owned`: the outermost folder around `state_dir` that only jupyter-helpers uses; it
        goes with the change set even if a killed run made it without recording that.
        `neighbours`: the records of other jupyter-helpers changes that may have made folders on
        our paths (another profile's `.ipython`, `wsl`'s `.jupyter`)."""
        self.state_dir = state_dir
        self.owned = owned or state_dir
        self.neighbours = neighbours
        self.manifest_path = state_dir / MANIFEST_NAME
        self.backup_dir = state_dir / BACKUP_DIR_NAME

    def _own_dirs(self) -> set[str]:
        own, folder = {str(self.state_dir)}, self.state_dir
        while folder != self.owned and self.owned in folder.parents:
            folder = folder.parent
            own.add(str(folder))
        return own

    # -- the manifest -------------------------------------------------------------------------

    def _load(self) -> Manifest | None:
        """The manifest; empty lists when there is none; None when it is unreadable."""
        try:
            raw = read(self.manifest_path)
            if raw is None:
                return _empty()
            manifest = load_json(raw)
        except (OSError, BadJson):
            return None
        if not isinstance(manifest, dict):
            return None
        manifest.setdefault("dirs", [])
        manifest.setdefault("users", [])
        return manifest if _well_formed(manifest) else None  # type: ignore[return-value]

    def damaged(self) -> bool:
        return self.manifest_path.exists() and self._load() is None

    def _save(self, manifest: Manifest) -> None:
        atomic_write(self.manifest_path, (json.dumps(manifest, indent=2) + "\n").encode(), mode=0o600)

    def users(self) -> list[str]:
        manifest = self._load()
        return list(manifest["users"]) if manifest else []

    # -- planning -----------------------------------------------------------------------------

    @staticmethod
    def _decide(change: Change, entry: Entry | None, recognise: Recognise) -> tuple[Outcome, bytes]:
        """What to do with one file, and the bytes it will hold."""
        try:
            current = read(change.path)
        except OSError:  # e.g. a directory in the way: writing it will fail and roll back
            current = b""
        if isinstance(change, KeyChange):
            config = json_keys.parse_config(current, change.path, change.keys, change.keys)
            wanted = json_keys.with_keys(config, change.keys)
            content = json_keys.dump(wanted)
            if current is not None and wanted == config:  # already so: the owner's bytes stay as they are
                return Outcome(Action.UNCHANGED, change.path), current
            return Outcome(Action.CREATE if current is None else Action.UPDATE, change.path), content
        content = change.content
        if current == content:
            return Outcome(Action.UNCHANGED, change.path), content
        if current is None:
            return Outcome(Action.CREATE, change.path), content
        if entry is None:
            return Outcome(Action.REPLACE, change.path), content
        if _is_ours(entry, change.path, current, recognise):
            return Outcome(Action.UPDATE, change.path), content
        return Outcome(
            Action.KEPT,
            change.path,
            "you edited it since install, so it is yours now; move it away and run install again to get ours",
        ), content

    def plan(self, changes: Sequence[Change], recognise: Recognise) -> list[Outcome]:
        """What `apply` would do to each file, without taking the lock or writing anything."""
        entries = _entries(self._load() or _empty())
        return [self._decide(change, entries.get(str(change.path)), recognise)[0] for change in changes]

    # -- applying -----------------------------------------------------------------------------

    def apply(
        self,
        changes: Sequence[Change],
        recognise: Recognise,
        user: str | None = None,
        then: Callable[[], list[Outcome]] | None = None,
    ) -> list[Outcome]:
        """Writes `changes` under the lock; `then` runs before the lock is released and, if it
        fails, everything this call wrote is taken back."""
        check_writable([self.manifest_path])
        try:
            with locked(self.manifest_path) as lock_dirs, _user_file_locks(changes) as more_dirs:
                return self._apply_under_lock(changes, recognise, user, then, lock_dirs + more_dirs)
        except OSError as exc:  # the lock's own folder could not be made
            raise write_error(exc, self.state_dir, "nothing was changed") from exc
        finally:
            self._remove_if_empty()

    def _apply_under_lock(
        self,
        changes: Sequence[Change],
        recognise: Recognise,
        user: str | None,
        then: Callable[[], list[Outcome]] | None,
        lock_dirs: list[Path],
    ) -> list[Outcome]:
        manifest = self._load() if self.manifest_path.exists() else _empty()
        if manifest is None:
            raise ChangeError(
                f"{self.manifest_path} is damaged; run `jupyter-helpers uninstall` "
                "(it recovers by content) and install again"
            )
        self._sweep(manifest, [change.path for change in changes])
        journal = _Journal()
        journal.new_dirs = [str(d) for d in lock_dirs if str(d) not in manifest["dirs"]]
        manifest["dirs"] += journal.new_dirs
        if journal.new_dirs:
            self._save(manifest)  # at once: a kill from here on still leaves the folders recorded
        try:
            outcomes = self._apply_locked(manifest, changes, recognise, user, journal)
            if then is not None:
                outcomes += then()
        except (OSError, ChangeError) as exc:
            undone = self._rollback(manifest, journal)
            consequence = f"could not take back: {undone}" if undone else "nothing was changed"
            if isinstance(exc, OSError):
                raise write_error(exc, self.state_dir, consequence) from exc
            if undone:
                raise ChangeError(f"{exc}; {consequence}") from exc
            raise
        return outcomes

    def _apply_locked(
        self, manifest: Manifest, changes: Sequence[Change], recognise: Recognise, user: str | None, journal: _Journal
    ) -> list[Outcome]:
        entries = _entries(manifest)
        decided = [self._decide(change, entries.get(str(change.path)), recognise) for change in changes]
        outcomes = [outcome for outcome, _ in decided]
        writing = [change for change, outcome in zip(changes, outcomes, strict=True) if outcome.action in WRITES]
        dirty = bool(writing or journal.new_dirs)
        if writing:
            check_writable([change.path for change in writing])
            manifest["dirs"] += made_by_neighbours(
                self.neighbours(), [self.manifest_path, *(c.path for c in writing)], manifest["dirs"]
            )
        if user and user not in manifest["users"]:
            manifest["users"].append(user)
            journal.user_added = user
            dirty = True
        for change, (outcome, content) in zip(changes, decided, strict=True):
            entry = entries.get(str(change.path))
            if outcome.action == Action.UNCHANGED and entry is not None and not entry.get("sha256"):
                entry["sha256"] = sha256(content)  # an older manifest: now we know
                dirty = True
            if outcome.action not in WRITES:
                continue
            self._record_dirs(manifest, journal, change.path.parent)
            current = read(change.path)
            if entry is None:
                entry = {"path": str(change.path), "sha256": sha256(content), "backup": None}
                if outcome.action == Action.REPLACE or (isinstance(change, KeyChange) and current is not None):
                    entry["backup"] = str(
                        self._back_up(
                            change.path, len(manifest["files"]), manifest, journal, noted=isinstance(change, FileChange)
                        )
                    )
                manifest["files"].append(entry)
                entries[entry["path"]] = entry
                journal.new_paths.add(entry["path"])
            if isinstance(change, KeyChange):
                _remember_keys(entry, change, current)
            entry["sha256"] = sha256(content)
            self._save(manifest)  # before the write: a kill midway still leaves a true record
            target = write_target(change.path)
            before = (target, read(target), file_mode(target))
            atomic_write(target, content)
            journal.writes.append(before)
        if dirty:
            self._save(manifest)
        return outcomes

    def _record_dirs(self, manifest: Manifest, journal: _Journal, directory: Path) -> None:
        """Records the folders `directory` needs before making them, so a kill in between
        still leaves a record that removes them."""
        planned = [str(d) for d in missing_dirs(directory) if str(d) not in manifest["dirs"]]
        if planned:
            manifest["dirs"] += planned
            journal.new_dirs += planned
            self._save(manifest)
        make_dirs(directory)

    def _back_up(self, path: Path, index: int, manifest: Manifest, journal: _Journal, noted: bool) -> Path:
        """A copy of the user's file with its mode (0600 stays 0600), in a 0700 folder. `noted`:
        with a note of where it came from, so it can be put back even without the manifest (not
        for a file the user owns: putting its old bytes back blindly would undo their later edits)."""
        self._record_dirs(manifest, journal, self.backup_dir)
        self.backup_dir.chmod(0o700)
        backup = self.backup_dir / f"{index}-{path.name}"
        atomic_write(backup, path.read_bytes(), mode=file_mode(path))
        journal.new_files.append(backup)
        if noted:
            origin = backup.with_name(backup.name + ORIGIN_SUFFIX)
            atomic_write(origin, (str(path) + "\n").encode(), mode=0o600)
            journal.new_files.append(origin)
        return backup

    def _rollback(self, manifest: Manifest, journal: _Journal) -> str:
        """Takes back this run's writes; returns '' or one line naming what could not be."""
        problems = []
        for target, before, mode in reversed(journal.writes):
            try:
                if before is None:
                    target.unlink(missing_ok=True)
                else:
                    atomic_write(target, before, mode=mode)
            except OSError as exc:
                problems.append(f"{target} ({os_reason(exc)})")
        kept = [entry for entry in manifest["files"] if entry["path"] not in journal.new_paths]
        manifest["files"] = kept
        if journal.user_added:
            manifest["users"].remove(journal.user_added)
        for path in journal.new_files:
            path.unlink(missing_ok=True)
        remove_empty_dirs(journal.new_dirs)  # the lock's own folders stay until the lock is released
        for directory in journal.new_dirs:
            if not Path(directory).exists() and directory in manifest["dirs"]:
                manifest["dirs"].remove(directory)
        try:
            self._save(manifest)
        except OSError as exc:
            problems.append(f"{self.manifest_path} ({os_reason(exc)})")
        return ", ".join(problems)

    # -- reverting ----------------------------------------------------------------------------

    def revert(
        self,
        recognise: Recognise,
        candidates: list[Path],
        user: str | None = None,
        then: Callable[[list[Outcome]], list[Outcome]] | None = None,
    ) -> list[Outcome]:
        """Restores or removes what was recorded; files edited since stay the user's.

        With `user`, only that user leaves; the files stay while others remain. Without a
        readable manifest, the `candidates` holding our content are removed and backups go back
        where their notes say. `then` gets the outcomes and runs before the lock is released,
        so an install waiting for this change set finds the whole uninstall done."""
        then = then or (lambda outcomes: [])
        if not self.state_dir.exists():
            outcomes = self._recover(recognise, candidates, note="")
            return outcomes + then(outcomes)
        tidy: list[str] = []
        with locked(self.manifest_path, tidy=tidy):
            outcomes = self._revert_locked(recognise, candidates, user, tidy)
            return outcomes + then(outcomes)

    def _revert_locked(
        self, recognise: Recognise, candidates: list[Path], user: str | None, tidy: list[str]
    ) -> list[Outcome]:
        """Everything `revert` does under the lock; folders to remove go into `tidy`."""
        exists = self.manifest_path.exists()
        manifest = self._load() if exists else None
        self._sweep(manifest, candidates)
        if manifest is None:
            outcomes = self._recover(recognise, candidates, note="is damaged" if exists else "is missing")
            self.manifest_path.unlink(missing_ok=True)
            dirs: list[str] = [str(self.backup_dir)]
        else:
            if user is not None:
                if user in manifest["users"]:
                    manifest["users"].remove(user)
                if manifest["users"]:
                    self._save(manifest)
                    others = ", ".join(manifest["users"])
                    return [
                        Outcome(Action.SHARED, Path(e["path"]), f"still used by {others}") for e in manifest["files"]
                    ]
            outcomes, failed = self._revert_entries(manifest, recognise)
            # A user file's backup goes only once no record names it: a kill before that leaves
            # a record whose backup still proves the file is back to its original bytes.
            done_backups = [
                backup
                for entry in manifest["files"]
                if "keys" in entry and entry not in failed
                for backup in [_backup(entry)]
                if backup is not None
            ]
            if failed:  # unfinished: the next uninstall (of the same user) tries these again
                manifest["files"] = failed
                manifest["users"] = [user] if user is not None else []
                self._save(manifest)
                _drop_backups(done_backups)
                return outcomes
            outcomes += self._noted_backups(recognise)[0]
            dirs = [str(self.backup_dir), *manifest["dirs"]]
            remove_empty_dirs(dirs)  # while the record still names them (the lock's own go last)
            self.manifest_path.unlink(missing_ok=True)
            _drop_backups(done_backups)
        tidy += [*dirs, *self._own_dirs()]
        return outcomes

    def _revert_entries(self, manifest: Manifest, recognise: Recognise) -> tuple[list[Outcome], list[Entry]]:
        outcomes: list[Outcome] = []
        failed: list[Entry] = []
        for entry in reversed(manifest["files"]):
            path = Path(entry["path"])
            try:
                if "keys" in entry:
                    with locked(path):
                        outcome = _revert_keys(path, entry)
                else:
                    outcome = _revert_one(path, entry, recognise)
            except (OSError, ChangeError) as exc:
                reason = os_reason(exc) if isinstance(exc, OSError) else str(exc)
                outcome = Outcome(Action.FAILED, path, f"{reason}; fix it and run uninstall again")
                failed.insert(0, entry)
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes, failed

    def _sweep(self, manifest: Manifest | None, paths: list[Path]) -> None:
        """Tidies what a killed run of this change set left half-written: temp files, and backups
        without a note that no record names (a kill before the record, or after the undo's)."""
        recorded = [Path(entry["path"]) for entry in manifest["files"]] if manifest else []
        backups = list(self.backup_dir.iterdir()) if self.backup_dir.is_dir() else []
        for path in {*recorded, *paths, self.manifest_path, *backups}:
            sweep_temps(path)
        named = {entry["backup"] for entry in manifest["files"]} if manifest else set()
        _drop_backups(
            [
                backup
                for backup in backups
                if not backup.name.endswith(ORIGIN_SUFFIX)
                and not backup.with_name(backup.name + ORIGIN_SUFFIX).exists()
                and str(backup) not in named
            ]
        )

    def _noted_backups(self, recognise: Recognise) -> tuple[list[Outcome], set[str]]:
        """Puts back every backup still in the folder, by the note of where it came from (all of
        them without a manifest; with one, those a kill left behind before it was recorded)."""
        outcomes: list[Outcome] = []
        restored = set()
        for origin in sorted(self.backup_dir.glob(f"*{ORIGIN_SUFFIX}")) if self.backup_dir.is_dir() else []:
            backup = origin.with_name(origin.name[: -len(ORIGIN_SUFFIX)])
            try:
                path = Path(origin.read_text(encoding="utf-8").strip())
            except (OSError, ValueError):
                continue
            outcome = _revert_one(path, {"path": str(path), "sha256": None, "backup": str(backup)}, recognise)
            restored.add(str(path))
            if outcome is not None:
                outcomes.append(outcome)
        return outcomes, restored

    def _recover(self, recognise: Recognise, candidates: list[Path], note: str) -> list[Outcome]:
        outcomes, restored = self._noted_backups(recognise)
        for path in candidates:
            if str(path) in restored:
                continue
            current = read(path)
            if current is not None and recognise(path, current):
                path.unlink()
                outcomes.append(Outcome(Action.REMOVE, path))
        if note and outcomes:
            outcomes.insert(0, Outcome(Action.NOTE, self.manifest_path, f"{note}; recognised our files by content"))
        return outcomes

    def _remove_if_empty(self) -> None:
        """A change set that recorded nothing leaves no folder behind."""
        if not self.manifest_path.exists():
            remove_empty_dirs(self._own_dirs())
            return
        tidy: list[str] = []
        with locked(self.manifest_path, tidy=tidy) as lock_dirs:
            manifest = self._load()
            if manifest is None or manifest["files"] or manifest["users"]:
                return
            self.manifest_path.unlink(missing_ok=True)  # (an uninstall may have removed it meanwhile)
            tidy += [*manifest["dirs"], *self._own_dirs(), *map(str, lock_dirs)]


@contextmanager
def _user_file_locks(changes: Sequence[Change]) -> Iterator[list[Path]]:
    """The lock of every file the user owns that these changes edit (after the change set's own):
    whoever else edits such a file with our locks waits. Yields the folders the locks made."""
    made: list[Path] = []
    with ExitStack() as stack:
        for change in changes:
            if isinstance(change, KeyChange):
                made += stack.enter_context(locked(change.path))
        yield made


def _remember_keys(entry: Entry, change: KeyChange, current: bytes | None) -> None:
    """Before a KeyChange's write: what each key held, which sections we create, and whether the
    backup still is the file's past (not if someone wrote the file since our last write)."""
    config = json_keys.parse_config(current, change.path, change.keys, change.keys)
    if "keys" not in entry:
        entry["sections"] = [section for section in change.keys if section not in config]
        entry["existed"] = current is not None
        entry["exact"] = True
    else:
        ours = current is not None and sha256(current) == entry["sha256"]
        original = current == _original(entry) if entry.get("existed") else current is None
        if not (ours or original):
            entry["exact"] = False
    entry["keys"] = json_keys.remembered(entry.get("keys", {}), config, change.keys)


def _backup(entry: Entry) -> Path | None:
    return Path(entry["backup"]) if entry["backup"] else None


def _original(entry: Entry) -> bytes | None:
    backup = _backup(entry)
    return read(backup) if backup else None


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


def _well_formed(manifest: dict[str, Any]) -> bool:
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
        strings(manifest["dirs"])
        and strings(manifest["users"])
        and isinstance(files, list)
        and all(
            isinstance(entry, dict)
            and isinstance(entry.get("path"), str)
            and all(isinstance(entry.get(key), str | None) for key in ("backup", "sha256"))
            and ("keys" not in entry or keys_entry(entry))
            for entry in files
        )
    )


def _entries(manifest: Manifest) -> dict[str, Entry]:
    return {entry["path"]: entry for entry in manifest["files"]}


def _is_ours(entry: Entry, path: Path, current: bytes, recognise: Recognise) -> bool:
    recorded = entry.get("sha256")
    return sha256(current) == recorded if recorded else recognise(path, current)


def _aside(path: Path) -> Path:
    candidate = path.with_name(path.name + ASIDE_SUFFIX)
    number = 1
    while candidate.exists() or candidate.is_symlink():
        number += 1
        candidate = path.with_name(f"{path.name}{ASIDE_SUFFIX}-{number}")
    return candidate


def _drop_backup(backup: Path | None) -> None:
    if backup is not None:
        backup.unlink(missing_ok=True)
        backup.with_name(backup.name + ORIGIN_SUFFIX).unlink(missing_ok=True)


def _drop_backups(backups: list[Path]) -> None:
    for backup in backups:
        _drop_backup(backup)


def _revert_one(path: Path, entry: Entry, recognise: Recognise) -> Outcome | None:
    """Puts back one file: ours goes (or the original returns), the user's stays."""
    backup = _backup(entry)
    original = read(backup) if backup else None
    mode = file_mode(backup) if backup else None
    current = read(path)
    if current is not None and original is not None and current == original:
        outcome = None  # the original is still in place (a kill before our write)
    elif current is not None and not _is_ours(entry, path, current, recognise):
        outcome = Outcome(Action.KEPT, path, "you edited it since install, so it is yours")
        if original is not None:
            aside = _aside(path)
            atomic_write(aside, original, mode=mode)
            outcome = Outcome(
                Action.KEPT,
                path,
                f"you edited it since install, so it is yours; your file from before install is at {aside}",
            )
    elif original is not None:
        atomic_write(path, original, mode=mode)
        outcome = Outcome(Action.RESTORE, path)
    elif backup is not None:
        if current is not None:
            path.unlink()
        outcome = Outcome(
            Action.LOST,
            path,
            f"its backup {backup} is gone, so the file from before install "
            "could not be restored" + ("; removed ours" if current else ""),
        )
    elif current is not None:
        path.unlink()
        outcome = Outcome(Action.REMOVE, path)
    else:
        outcome = None  # already gone
    _drop_backup(backup)
    return outcome


def _revert_keys(path: Path, entry: Entry) -> Outcome | None:
    """Puts back one file the user owns: its exact original bytes while it is just as we left it,
    else only the keys that still hold our values (everything else stays theirs)."""
    backup = _backup(entry)
    original = read(backup) if backup else None
    current = read(path)
    if current is None:
        outcome: Outcome | None = Outcome(Action.NOTE, path, "was removed since; nothing to undo there")
    elif original is not None and current == original:
        outcome = None  # the original is still in place (a kill before our write, or midway through an undo)
    elif sha256(current) == entry["sha256"] and entry.get("exact", True) and (original or not entry.get("existed")):
        if original is None:
            path.unlink()
            outcome = Outcome(Action.REMOVE, path)
        else:
            atomic_write(path, original, mode=file_mode(backup) if backup else None)
            outcome = Outcome(Action.RESTORE, path)
    else:
        records = entry.get("keys", {})
        config = json_keys.parse_config(current, path, {name.partition(".")[0] for name in records})
        config, back, kept = json_keys.without_keys(config, records, entry.get("sections", []))
        if config == {} and not entry.get("existed"):
            path.unlink()
            outcome = Outcome(Action.REMOVE, path)
        else:
            if back:
                atomic_write(path, json_keys.dump(config))
            outcome = Outcome(Action.UNDO_KEYS, path, keys_back=tuple(back), keys_kept=tuple(kept))
    return outcome  # its backup goes once the record no longer names it (see _revert_locked)
