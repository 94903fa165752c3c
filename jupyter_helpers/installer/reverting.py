"""Taking a change set back (`uninstall`, `wsl --undo`) and recovering from what a killed or
damaged run left: files still ours go or get their originals back, files the user edited since
stay theirs; without a readable manifest, our files are found by content and backups go back where
their notes say.

Runs under the change set's lock (`changes.ChangeSet.revert` takes it).
"""

from __future__ import annotations

from pathlib import Path

from ..common.files import ChangeError, atomic_write, file_mode, os_reason, read, sha256, sweep_temps
from ..common.locks import locked, remove_empty_dirs
from . import json_keys
from .manifest import (
    ORIGIN_SUFFIX,
    Action,
    Entry,
    FileOutcome,
    Manifest,
    Recognise,
    Store,
    backup_of,
    drop_backups,
    is_ours,
    origin_note,
)

ASIDE_SUFFIX = ".before-jupyter-helpers"


def revert_locked(
    store: Store, recognise: Recognise, candidates: list[Path], user: str | None, tidy: list[str]
) -> list[FileOutcome]:
    """Everything `ChangeSet.revert` does under the lock; folders to remove go into `tidy`."""
    exists = store.manifest_path.exists()
    manifest = store.load() if exists else None
    sweep(store, manifest, candidates)
    if manifest is None:
        outcomes = recover(store, recognise, candidates, note="is damaged" if exists else "is missing")
        store.manifest_path.unlink(missing_ok=True)
        dirs: list[str] = [str(store.backup_dir)]
    else:
        if user is not None:
            if user in manifest["users"]:
                manifest["users"].remove(user)
            if manifest["users"]:
                store.save(manifest)
                others = ", ".join(manifest["users"])
                return [
                    FileOutcome(Action.SHARED, Path(e["path"]), f"still used by {others}") for e in manifest["files"]
                ]
        outcomes, failed = _revert_entries(manifest, recognise)
        # A user file's backup goes only once no record names it: a kill before that leaves
        # a record whose backup still proves the file is back to its original bytes.
        done_backups = [backup_of(entry) for entry in manifest["files"] if "keys" in entry and entry not in failed]
        if failed:  # unfinished: the next uninstall (of the same user) tries these again
            manifest["files"] = failed
            manifest["users"] = [user] if user is not None else []
            store.save(manifest)
            drop_backups(done_backups)
            return outcomes
        outcomes += _noted_backups(store, recognise)[0]
        dirs = [str(store.backup_dir), *manifest["dirs"]]
        remove_empty_dirs(dirs)  # while the record still names them (the lock's own go last)
        store.manifest_path.unlink(missing_ok=True)
        drop_backups(done_backups)
    tidy += [*dirs, *store.own_dirs()]
    return outcomes


def _revert_entries(manifest: Manifest, recognise: Recognise) -> tuple[list[FileOutcome], list[Entry]]:
    outcomes: list[FileOutcome] = []
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
            outcome = FileOutcome(Action.FAILED, path, f"{reason}; fix it and run uninstall again")
            failed.insert(0, entry)
        if outcome is not None:
            outcomes.append(outcome)
    return outcomes, failed


def sweep(store: Store, manifest: Manifest | None, paths: list[Path]) -> None:
    """Tidies what a killed run of this change set left half-written: temp files, and backups
    without a note that no record names (a kill before the record, or after the undo's)."""
    recorded = [Path(entry["path"]) for entry in manifest["files"]] if manifest else []
    backup_dir = store.backup_dir
    backups = list(backup_dir.iterdir()) if backup_dir.is_dir() else []
    for path in {*recorded, *paths, store.manifest_path, *backups}:
        sweep_temps(path)
    named = {entry["backup"] for entry in manifest["files"]} if manifest else set()
    drop_backups(
        [
            backup
            for backup in backups
            if not backup.name.endswith(ORIGIN_SUFFIX) and not origin_note(backup).exists() and str(backup) not in named
        ]
    )


def _noted_backups(store: Store, recognise: Recognise) -> tuple[list[FileOutcome], set[str]]:
    """Puts back every backup still in the folder, by the note of where it came from (all of
    them without a manifest; with one, those a kill left behind before it was recorded)."""
    outcomes: list[FileOutcome] = []
    restored = set()
    backup_dir = store.backup_dir
    for origin in sorted(backup_dir.glob(f"*{ORIGIN_SUFFIX}")) if backup_dir.is_dir() else []:
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


def recover(store: Store, recognise: Recognise, candidates: list[Path], note: str) -> list[FileOutcome]:
    """Without a readable manifest: backups go back by their notes, and the `candidates` still
    holding our content (by `recognise`) are removed."""
    outcomes, restored = _noted_backups(store, recognise)
    for path in candidates:
        if str(path) in restored:
            continue
        current = read(path)
        if current is not None and recognise(path, current):
            path.unlink()
            outcomes.append(FileOutcome(Action.REMOVE, path))
    if note and outcomes:
        outcomes.insert(0, FileOutcome(Action.NOTE, store.manifest_path, f"{note}; recognised our files by content"))
    return outcomes


def _aside(path: Path) -> Path:
    candidate = path.with_name(path.name + ASIDE_SUFFIX)
    number = 1
    while candidate.exists() or candidate.is_symlink():
        number += 1
        candidate = path.with_name(f"{path.name}{ASIDE_SUFFIX}-{number}")
    return candidate


def _revert_one(path: Path, entry: Entry, recognise: Recognise) -> FileOutcome | None:
    """Puts back one file: ours goes (or the original returns), the user's stays."""
    backup = backup_of(entry)
    original = read(backup) if backup else None
    mode = file_mode(backup) if backup else None
    current = read(path)
    if current is not None and original is not None and current == original:
        outcome = None  # the original is still in place (a kill before our write)
    elif current is not None and not is_ours(entry, path, current, recognise):
        outcome = FileOutcome(Action.KEPT, path, "you edited it since install, so it is yours")
        if original is not None:
            aside = _aside(path)
            atomic_write(aside, original, mode=mode)
            outcome = FileOutcome(
                Action.KEPT,
                path,
                f"you edited it since install, so it is yours; your file from before install is at {aside}",
            )
    elif original is not None:
        atomic_write(path, original, mode=mode)
        outcome = FileOutcome(Action.RESTORE, path)
    elif backup is not None:
        if current is not None:
            path.unlink()
        outcome = FileOutcome(
            Action.LOST,
            path,
            f"its backup {backup} is gone, so the file from before install "
            "could not be restored" + ("; removed ours" if current else ""),
        )
    elif current is not None:
        path.unlink()
        outcome = FileOutcome(Action.REMOVE, path)
    else:
        outcome = None  # already gone
    drop_backups([backup])
    return outcome


def _revert_keys(path: Path, entry: Entry) -> FileOutcome | None:
    """Puts back one file the user owns: its exact original bytes while it is just as we left it,
    else only the keys that still hold our values (everything else stays theirs)."""
    backup = backup_of(entry)
    original = read(backup) if backup else None
    current = read(path)
    if current is None:
        outcome: FileOutcome | None = FileOutcome(Action.NOTE, path, "was removed since; nothing to undo there")
    elif original is not None and current == original:
        outcome = None  # the original is still in place (a kill before our write, or midway through an undo)
    elif sha256(current) == entry["sha256"] and entry.get("exact", True) and (original or not entry.get("existed")):
        if original is None:
            path.unlink()
            outcome = FileOutcome(Action.REMOVE, path)
        else:
            atomic_write(path, original, mode=file_mode(backup) if backup else None)
            outcome = FileOutcome(Action.RESTORE, path)
    else:
        records = entry.get("keys", {})
        config = json_keys.parse_config(current, path, {name.partition(".")[0] for name in records})
        config, back, kept = json_keys.without_keys(config, records, entry.get("sections", []))
        if config == {} and not entry.get("existed"):
            path.unlink()
            outcome = FileOutcome(Action.REMOVE, path)
        else:
            if back:
                atomic_write(path, json_keys.dump(config))
            outcome = FileOutcome(Action.UNDO_KEYS, path, keys_back=tuple(back), keys_kept=tuple(kept))
    return outcome  # its backup goes once the record no longer names it (see revert_locked)
