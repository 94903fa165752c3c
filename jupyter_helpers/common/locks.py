"""One lock per file we read-modify-write: `fcntl.flock` on `.<name>.lock` beside the file.

Every command that writes a file takes its lock and reads the file again under it, so two
`install`s or twenty `projects add`s run one after the other instead of overwriting each other.
The lock file is removed on release (the user's folders keep no trace of us); a waiter that then
wakes up on the removed file notices (its inode is no longer the one at that path) and retries.
Directories the lock file needed are created here and reported, so a change set can record them.
Folders the holder tidies away go before the lock is released (see `locked`).
"""

from __future__ import annotations

import errno
import fcntl
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from .files import ChangeError


def lock_path(path: Path) -> Path:
    return path.parent / f".{path.name}.lock"


def missing_dirs(directory: Path) -> list[Path]:
    """`directory` and those of its parents that do not exist yet, outermost first."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    return missing[::-1]


def make_dirs(directory: Path) -> list[Path]:
    """Creates `directory` and its missing parents; returns the ones this call created, outermost first."""
    created: list[Path] = []
    while not directory.is_dir():
        try:
            for item in missing_dirs(directory):
                try:
                    item.mkdir()
                except FileExistsError:
                    continue  # another process made it a moment ago: theirs to record
                created.append(item)
        except FileNotFoundError:
            continue  # a parent was tidied away meanwhile (an uninstall finishing): start again
    return created


def remove_empty_dirs(dirs: Iterable[Path | str]) -> None:
    """Deepest first; a folder with anything in it stays (the user, IPython or another command
    put it there, so it is theirs)."""
    for directory in sorted({str(d) for d in dirs}, key=len, reverse=True):
        try:
            os.rmdir(directory)
        except OSError:
            pass


@contextmanager
def locked(path: Path, tidy: list[str] | None = None) -> Iterator[list[Path]]:
    """Holds the lock of `path`; yields the directories created to hold the lock file.

    Folders the holder adds to `tidy` are removed (when empty) after the lock file is gone but
    before the lock is released: a waiter then always finds them gone and creates (and records)
    them itself, instead of building on a folder that vanishes under it."""
    lock = lock_path(path)
    created: list[Path] = []
    while True:
        created += make_dirs(lock.parent)
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        except FileNotFoundError:
            continue  # the directory was removed between mkdir and open (an uninstall finishing)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            # never ours (we create plain files and remove them): following it would create or
            # lock a file wherever it points
            raise ChangeError(f"{lock} is a symbolic link, not a lock file; remove it and retry") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                same = os.stat(lock).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
        except BaseException:
            os.close(fd)
            raise
        if same:
            break
        os.close(fd)  # we locked a file its previous holder had already removed
    try:
        yield created
    finally:
        try:
            lock.unlink()
        except OSError:
            pass  # someone removed it already; the inode check keeps waiters safe
        if tidy:
            remove_empty_dirs(tidy)
        os.close(fd)
