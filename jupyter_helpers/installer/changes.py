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

`ChangeSet` is the face: it takes the locks and hands the work to three modules, one job each:
`manifest` (the records and the manifest's format), `applying` (writes and rollback),
`reverting` (undo and crash recovery).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from ..common.files import check_writable, write_error
from ..common.locks import locked, remove_empty_dirs
from ..common.paths import MANIFEST_NAME
from . import applying, manifest, reverting
from .manifest import (
    BACKUP_DIR_NAME,
    WRITES,
    Action,
    Change,
    FileChange,
    FileOutcome,
    KeyChange,
    Manifest,
    Recognise,
)

__all__ = ["WRITES", "Action", "Change", "ChangeSet", "FileChange", "FileOutcome", "KeyChange", "Recognise"]


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

    def own_dirs(self) -> set[str]:
        own, folder = {str(self.state_dir)}, self.state_dir
        while folder != self.owned and self.owned in folder.parents:
            folder = folder.parent
            own.add(str(folder))
        return own

    # -- the manifest -------------------------------------------------------------------------

    def load(self) -> Manifest | None:
        """The manifest; empty lists when there is none; None when it is unreadable."""
        return manifest.load(self.manifest_path)

    def save(self, record: Manifest) -> None:
        manifest.save(self.manifest_path, record)

    def damaged(self) -> bool:
        return self.manifest_path.exists() and self.load() is None

    def users(self) -> list[str]:
        record = self.load()
        return list(record["users"]) if record else []

    # -- planning and applying ----------------------------------------------------------------

    def plan(self, changes: Sequence[Change], recognise: Recognise) -> list[FileOutcome]:
        """What `apply` would do to each file, without taking the lock or writing anything."""
        entries = manifest.entries(self.load() or manifest.empty())
        return [applying.decide(change, entries.get(str(change.path)), recognise)[0] for change in changes]

    def apply(
        self,
        changes: Sequence[Change],
        recognise: Recognise,
        user: str | None = None,
        then: Callable[[], list[FileOutcome]] | None = None,
    ) -> list[FileOutcome]:
        """Writes `changes` under the lock; `then` runs before the lock is released and, if it
        fails, everything this call wrote is taken back."""
        check_writable([self.manifest_path])
        try:
            with locked(self.manifest_path) as lock_dirs, applying.user_file_locks(changes) as more_dirs:
                return applying.apply_under_lock(self, changes, recognise, user, then, lock_dirs + more_dirs)
        except OSError as exc:  # the lock's own folder could not be made
            raise write_error(exc, self.state_dir, "nothing was changed") from exc
        finally:
            self._remove_if_empty()

    # -- reverting ----------------------------------------------------------------------------

    def revert(
        self,
        recognise: Recognise,
        candidates: list[Path],
        user: str | None = None,
        then: Callable[[list[FileOutcome]], list[FileOutcome]] | None = None,
    ) -> list[FileOutcome]:
        """Restores or removes what was recorded; files edited since stay the user's.

        With `user`, only that user leaves; the files stay while others remain. Without a
        readable manifest, the `candidates` holding our content are removed and backups go back
        where their notes say. `then` gets the outcomes and runs before the lock is released,
        so an install waiting for this change set finds the whole uninstall done."""
        then = then or (lambda outcomes: [])
        if not self.state_dir.exists():
            outcomes = reverting.recover(self, recognise, candidates, note="")
            return outcomes + then(outcomes)
        tidy: list[str] = []
        with locked(self.manifest_path, tidy=tidy):
            outcomes = reverting.revert_locked(self, recognise, candidates, user, tidy)
            return outcomes + then(outcomes)

    def _remove_if_empty(self) -> None:
        """A change set that recorded nothing leaves no folder behind."""
        if not self.manifest_path.exists():
            remove_empty_dirs(self.own_dirs())
            return
        tidy: list[str] = []
        with locked(self.manifest_path, tidy=tidy) as lock_dirs:
            record = self.load()
            if record is None or record["files"] or record["users"]:
                return
            self.manifest_path.unlink(missing_ok=True)  # (an uninstall may have removed it meanwhile)
            tidy += [*record["dirs"], *self.own_dirs(), *map(str, lock_dirs)]
