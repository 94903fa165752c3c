"""File primitives every writer shares: read, atomic write (through symlinks, keeping modes),
tidy what a killed writer left, and the one sentence for a write that failed.

Standard library only: the CLI, the installer and the server all write through here.
"""

from __future__ import annotations

import errno
import glob
import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path

from .errors import UserError


class ChangeError(UserError):
    """A file could not be written; the message is one line the user can act on."""


def write_error(exc: OSError, where: Path, consequence: str = "") -> ChangeError:
    """The one sentence for a write that failed: which file, why, and what that left behind
    (`nothing was changed`, or what could not be taken back)."""
    text = f"could not write {exc.filename or where}: {os_reason(exc)}"
    return ChangeError(f"{text}; {consequence}" if consequence else text)


class BadJson(ValueError):
    """Bytes that are not JSON we can use. `kind` says why (encoding, depth, syntax); `str()` is
    a short reason such as `not UTF-8 text (byte 3)`."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind


def load_json(data: bytes) -> object:
    """Reads JSON from a file anyone may have edited: undecodable bytes, nesting deep enough to
    exhaust the stack, or broken syntax all become one BadJson with a short reason."""
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise BadJson("encoding", f"not UTF-8 text (byte {exc.start})") from None
    except RecursionError:
        raise BadJson("depth", "nested too deeply") from None
    except ValueError as exc:
        raise BadJson("syntax", str(exc).splitlines()[0] if str(exc) else "not JSON") from None


def dig(data: object, *keys: str) -> object:
    """`data[k1][k2]...` through JSON objects, or None where a level is missing or not an object."""
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read(path: Path) -> bytes | None:
    """The file's bytes (through a symlink), or None when there is no file. Anything but a regular
    file raises OSError "not a regular file": reading a FIFO (a secrets tool's named pipe) would
    wait for a writer forever, and a command that hangs says nothing."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # opening a FIFO without a writer would block too
    except (FileNotFoundError, NotADirectoryError):
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        with open(fd, "rb", closefd=False) as file:
            return file.read()
    finally:
        os.close(fd)


def file_mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None


def write_target(path: Path) -> Path:
    """Where writing `path` lands: the target of a symlink (dotfiles repos link their configs),
    which must exist; a link is never replaced by a regular file."""
    if not path.is_symlink():
        return path
    try:
        target = path.resolve()
    except RuntimeError as exc:  # a loop of links
        raise ChangeError(f"{path} is a symlink that loops; fix or remove the link and retry") from exc
    if not target.is_file():
        raise ChangeError(f"{path} is a symlink to {target}, which is not a file; fix or remove the link and retry")
    return target


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
    """Refuses a place we cannot write, and a file its owner made read-only (a rename would
    replace it anyway, and so would root's override): one line, before anything is written."""
    for path in paths:
        target = _existing_ancestor(write_target(path).parent)
        if not _writable(target):
            raise ChangeError(
                f"cannot write {path}: {target} is not a writable directory "
                "(fix its permissions or choose another location)"
            )
        mode = file_mode(path)
        if mode is not None and path.is_file() and not mode & 0o222:
            raise ChangeError(
                f"cannot write {path}: it is read-only (mode {mode:04o}); "
                f"make it writable (chmod u+w {path}) or move it away, and retry"
            )


def atomic_write(path: Path, content: bytes, mode: int | None = None) -> None:
    """Temp file + rename (through a symlink), with `mode`, else the mode of the file it
    replaces, else the umask's default. A file with other hard links is rewritten in place
    instead: a rename would leave its other names holding the old content."""
    path = write_target(path)
    if mode is None:
        mode = file_mode(path)
    if _hard_linked(path):
        _write_in_place(path, content, mode)
        return
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(path)) from exc  # name the file, not our temp
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _hard_linked(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_nlink > 1
    except OSError:
        return False


def _write_in_place(path: Path, content: bytes, mode: int | None) -> None:
    """The mode first (a token never sits in a file others may read), then the bytes, cut to
    length and synced: every name of the file sees them."""
    try:
        if mode is not None:
            os.chmod(path, mode)
        with open(path, "r+b") as handle:
            handle.write(content)
            handle.truncate()
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from exc


def sweep_temps(path: Path) -> None:
    """Removes temp files a killed `atomic_write` of `path` left behind. Call it holding the
    lock of `path`: every writer of it holds that lock, so no live writer owns such a file."""
    try:
        target = path.resolve() if path.is_symlink() else path
        for stale in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
            stale.unlink(missing_ok=True)
    except (OSError, RuntimeError):
        pass  # an unreadable folder, or a loop of links, has nothing of ours to tidy


def os_reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
