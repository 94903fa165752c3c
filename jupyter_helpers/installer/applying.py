"""A change set's writes: decide each file, record before writing, and take back exactly this run's
writes when anything fails (`rollback`), so a failed `install` leaves the home as it found it.

Runs under the change set's lock (`changes.ChangeSet.apply` takes it); the manifest is saved
before every write, so a run killed midway still leaves a true record for `reverting`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..common.files import (
    ChangeError,
    atomic_write,
    check_writable,
    file_mode,
    os_reason,
    read,
    sha256,
    write_error,
    write_target,
)
from ..common.locks import locked, make_dirs, missing_dirs, remove_empty_dirs
from . import json_keys
from .manifest import (
    WRITES,
    Action,
    Change,
    Entry,
    FileChange,
    FileOutcome,
    KeyChange,
    Manifest,
    Recognise,
    Store,
    entries,
    is_ours,
    made_by_neighbours,
    origin_note,
    original,
)
from .reverting import sweep


@dataclass
class Journal:
    """What one `apply` did, so a failure can take back exactly that and nothing older."""

    writes: list[tuple[Path, bytes | None, int | None]] = field(default_factory=list)
    new_paths: set[str] = field(default_factory=set)
    new_files: list[Path] = field(default_factory=list)
    new_dirs: list[str] = field(default_factory=list)
    user_added: str | None = None


def decide(change: Change, entry: Entry | None, recognise: Recognise) -> tuple[FileOutcome, bytes]:
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
            return FileOutcome(Action.UNCHANGED, change.path), current
        return FileOutcome(Action.CREATE if current is None else Action.UPDATE, change.path), content
    content = change.content
    if current == content:
        return FileOutcome(Action.UNCHANGED, change.path), content
    if current is None:
        return FileOutcome(Action.CREATE, change.path), content
    if entry is None:
        return FileOutcome(Action.REPLACE, change.path), content
    if is_ours(entry, change.path, current, recognise):
        return FileOutcome(Action.UPDATE, change.path), content
    return FileOutcome(
        Action.KEPT,
        change.path,
        "you edited it since install, so it is yours now; move it away and run install again to get ours",
    ), content


@contextmanager
def user_file_locks(changes: Sequence[Change]) -> Iterator[list[Path]]:
    """The lock of every file the user owns that these changes edit (after the change set's own):
    whoever else edits such a file with our locks waits. Yields the folders the locks made."""
    made: list[Path] = []
    with ExitStack() as stack:
        for change in changes:
            if isinstance(change, KeyChange):
                made += stack.enter_context(locked(change.path))
        yield made


def apply_under_lock(
    store: Store,
    changes: Sequence[Change],
    recognise: Recognise,
    user: str | None,
    then: Callable[[], list[FileOutcome]] | None,
    lock_dirs: list[Path],
) -> list[FileOutcome]:
    manifest = store.load()
    if manifest is None:
        raise ChangeError(
            f"{store.manifest_path} is damaged; run `jupyter-helpers uninstall` "
            "(it recovers by content) and install again"
        )
    sweep(store, manifest, [change.path for change in changes])
    journal = Journal()
    journal.new_dirs = [str(d) for d in lock_dirs if str(d) not in manifest["dirs"]]
    manifest["dirs"] += journal.new_dirs
    if journal.new_dirs:
        store.save(manifest)  # at once: a kill from here on still leaves the folders recorded
    try:
        outcomes = _apply_locked(store, manifest, changes, recognise, user, journal)
        if then is not None:
            outcomes += then()
    except (OSError, ChangeError) as exc:
        undone = _rollback(store, manifest, journal)
        consequence = f"could not take back: {undone}" if undone else "nothing was changed"
        if isinstance(exc, OSError):
            raise write_error(exc, store.state_dir, consequence) from exc
        if undone:
            raise ChangeError(f"{exc}; {consequence}") from exc
        raise
    return outcomes


def _apply_locked(
    store: Store,
    manifest: Manifest,
    changes: Sequence[Change],
    recognise: Recognise,
    user: str | None,
    journal: Journal,
) -> list[FileOutcome]:
    recorded = entries(manifest)
    decided = [decide(change, recorded.get(str(change.path)), recognise) for change in changes]
    outcomes = [outcome for outcome, _ in decided]
    writing = [change for change, outcome in zip(changes, outcomes, strict=True) if outcome.action in WRITES]
    dirty = bool(writing or journal.new_dirs)
    if writing:
        check_writable([change.path for change in writing])
        manifest["dirs"] += made_by_neighbours(
            store.neighbours(), [store.manifest_path, *(c.path for c in writing)], manifest["dirs"]
        )
    if user and user not in manifest["users"]:
        manifest["users"].append(user)
        journal.user_added = user
        dirty = True
    for change, (outcome, content) in zip(changes, decided, strict=True):
        if outcome.action not in WRITES:
            continue
        entry = recorded.get(str(change.path))
        _record_dirs(store, manifest, journal, change.path.parent)
        current = read(change.path)
        if entry is None:
            entry = {"path": str(change.path), "sha256": sha256(content), "backup": None}
            if outcome.action == Action.REPLACE or (isinstance(change, KeyChange) and current is not None):
                entry["backup"] = str(
                    _back_up(
                        store,
                        change.path,
                        len(manifest["files"]),
                        manifest,
                        journal,
                        noted=isinstance(change, FileChange),
                    )
                )
            manifest["files"].append(entry)
            recorded[entry["path"]] = entry
            journal.new_paths.add(entry["path"])
        if isinstance(change, KeyChange):
            _remember_keys(entry, change, current)
        entry["sha256"] = sha256(content)
        store.save(manifest)  # before the write: a kill midway still leaves a true record
        target = write_target(change.path)
        before = (target, read(target), file_mode(target))
        atomic_write(target, content)
        journal.writes.append(before)
    if dirty:
        store.save(manifest)
    return outcomes


def _record_dirs(store: Store, manifest: Manifest, journal: Journal, directory: Path) -> None:
    """Records the folders `directory` needs before making them, so a kill in between
    still leaves a record that removes them."""
    planned = [str(d) for d in missing_dirs(directory) if str(d) not in manifest["dirs"]]
    if planned:
        manifest["dirs"] += planned
        journal.new_dirs += planned
        store.save(manifest)
    make_dirs(directory)


def _back_up(store: Store, path: Path, index: int, manifest: Manifest, journal: Journal, noted: bool) -> Path:
    """A copy of the user's file with its mode (0600 stays 0600), in a 0700 folder. `noted`:
    with a note of where it came from, so it can be put back even without the manifest (not
    for a file the user owns: putting its old bytes back blindly would undo their later edits)."""
    _record_dirs(store, manifest, journal, store.backup_dir)
    store.backup_dir.chmod(0o700)
    backup = store.backup_dir / f"{index}-{path.name}"
    atomic_write(backup, path.read_bytes(), mode=file_mode(path))
    journal.new_files.append(backup)
    if noted:
        origin = origin_note(backup)
        atomic_write(origin, (str(path) + "\n").encode(), mode=0o600)
        journal.new_files.append(origin)
    return backup


def _rollback(store: Store, manifest: Manifest, journal: Journal) -> str:
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
        store.save(manifest)
    except OSError as exc:
        problems.append(f"{store.manifest_path} ({os_reason(exc)})")
    return ", ".join(problems)


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
        before = current == original(entry) if entry.get("existed") else current is None
        if not (ours or before):
            entry["exact"] = False
    entry["keys"] = json_keys.remembered(entry.get("keys", {}), config, change.keys)
