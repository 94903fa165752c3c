"""The folder -> project map: load, validate, save, and decide which project a path belongs to.

One JSON file (`jupyter_helpers_projects.json` in the Jupyter config dir) that the CLI edits and
the server extension reads. Decisions are pure functions over `ProjectMap`.
"""

from __future__ import annotations

import json
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import paths
from .errors import UserError
from .files import BadJson, load_json
from .locks import locked

DEFAULT_TITLE_FORMAT = "{title} - {project}"


class ProjectMapError(UserError):
    """The map file (or a value given for it) is malformed; the message names file and entry."""


def normalise_folder(folder: str) -> str:
    return os.path.normpath(os.path.abspath(os.path.expanduser(folder)))


def _is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


@dataclass(frozen=True)
class ProjectMap:
    folders: dict[str, str] = field(default_factory=dict)

    def resolve(self, path: str) -> str | None:
        """The project of the deepest mapped folder containing `path` (absolute), if any."""
        matches = [folder for folder in self.folders if _is_within(path, folder)]
        return self.folders[max(matches, key=len)] if matches else None

    def project_names(self) -> list[str]:
        return sorted(set(self.folders.values()))

    def server_view(self, root_dir: str, unmapped: str = "root") -> dict:
        """What the title script needs for a server rooted at `root_dir`: a default project
        (a mapped folder containing the root, else the root folder's name when `unmapped` is
        "root") and the mapped folders below the root as root-relative prefixes, deepest first.

        The root and the folders are compared with symlinks resolved (`cd` into a symlinked folder
        and `projects add .` records the real path while the server may be started on the link),
        and as given when that finds nothing (a mapped folder that is itself a link in the root)."""

        def relative(folder: str, root: str) -> str | None:
            return os.path.relpath(folder, root) if folder != root and _is_within(folder, root) else None

        root = normalise_folder(root_dir)
        real_root = os.path.realpath(root)
        real_map = ProjectMap({os.path.realpath(folder): name for folder, name in self.folders.items()})
        default = real_map.resolve(real_root) or self.resolve(root)
        if default is None and unmapped == "root":
            default = Path(root).name or root
        prefixes: dict[str, str] = {}
        for folder, name in self.folders.items():
            prefix = relative(os.path.realpath(folder), real_root) or relative(folder, root)
            if prefix:
                prefixes.setdefault(prefix, name)
        ordered = sorted(prefixes.items(), key=lambda item: len(item[0]), reverse=True)
        return {"default": default, "prefixes": [list(item) for item in ordered]}


_BIDI_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def normalise_name(name: str) -> str:
    """A project name as titles show it: whitespace runs (tabs, newlines) become one space,
    ends are stripped. Raises ValueError for names that cannot be shown as typed."""
    text = " ".join(name.split())
    if not text:
        raise ValueError("must be a non-empty string")
    odd = [char for char in text if unicodedata.category(char) == "Cc" or char in _BIDI_CONTROLS]
    if odd:
        raise ValueError(f"contains the control character {odd[0]!r}; use plain text")
    return text


def map_object(raw: object, source: str) -> dict[str, Any]:
    """The file's JSON as the object it must be, else a one-line error with its expected shape."""
    if not isinstance(raw, dict) or not isinstance(raw.get("folders", {}), dict):
        raise ProjectMapError(f'{source}: expected {{"folders": {{"/absolute/folder": "Project name"}}}}')
    return raw


def validate(raw: object, source: str) -> ProjectMap:
    """Turns the file's JSON into a ProjectMap, or says exactly which entry is wrong."""
    folders = {}
    for folder, name in map_object(raw, source).get("folders", {}).items():
        if not isinstance(name, str):
            raise ProjectMapError(f"{source}: project name for {folder!r} must be a non-empty string, got {name!r}")
        try:
            folders[_folder_key(folder, source)] = normalise_name(name)
        except ValueError as exc:
            raise ProjectMapError(f"{source}: project name for {folder!r} {exc}, got {name!r}") from exc
    return ProjectMap(folders)


def _folder_key(folder: str, source: str) -> str:
    if not os.path.isabs(os.path.expanduser(folder)):
        raise ProjectMapError(f"{source}: folder {folder!r} must be an absolute path (e.g. /home/me/work/alpha)")
    return normalise_folder(folder)


@dataclass(frozen=True)
class ProjectStore:
    """The map file. Every change reads it again under its lock and keeps what it does not
    understand (other keys, other folders' spelling), so concurrent edits never drop entries."""

    path: Path

    @classmethod
    def default(cls) -> ProjectStore:
        return cls(paths.projects_file())

    def _read_raw(self) -> object:
        """The file's JSON (None when there is none); one-line errors for anything unreadable."""
        try:
            data = self.path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            raise ProjectMapError(f"cannot read {self.path}: {exc.strerror}") from exc
        try:
            return load_json(data)
        except BadJson as exc:
            problem = {"encoding": f"is {exc}", "depth": "is nested too deeply to be a project map"}.get(
                exc.kind, f"is not valid JSON ({exc})"
            )
            raise ProjectMapError(f"{self.path} {problem}; fix or delete it") from None

    def load(self) -> ProjectMap:
        raw = self._read_raw()
        return ProjectMap() if raw is None else validate(raw, str(self.path))

    def _edit(self, change: Callable[[dict[str, str]], bool]) -> None:
        """Applies `change` to the folders under the lock; writes only if it says it changed them."""
        from .files import atomic_write, check_writable, sweep_temps, write_error

        check_writable([self.path])
        try:
            with locked(self.path):
                sweep_temps(self.path)
                raw = map_object(self._read_raw() or {}, str(self.path))
                validate(raw, str(self.path))  # never rewrite a file we cannot understand
                folders = dict(raw.get("folders", {}))
                if not change(folders):
                    return
                text = json.dumps({**raw, "folders": dict(sorted(folders.items()))}, indent=2, ensure_ascii=False)
                atomic_write(self.path, (text + "\n").encode())
        except OSError as exc:
            raise write_error(exc, self.path) from exc

    def add(self, folder: str, name: str) -> str:
        """Maps `folder` to `name` (normalised, which is returned)."""
        try:
            name = normalise_name(name)
        except ValueError as exc:
            raise ProjectMapError(f"project name {name!r} {exc}") from exc
        key = normalise_folder(folder)
        odd = [char for char in key if unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI_CONTROLS]
        if odd:  # `projects list` shows one folder per line, titles and messages show names
            raise ProjectMapError(
                f"folder {key!r} has a line break or control character ({odd[0]!r}) in its "
                "name; rename it (or map a folder above it)"
            )
        try:
            key.encode("utf-8")
        except UnicodeEncodeError as exc:  # the map is UTF-8 JSON, and titles show text
            raise ProjectMapError(
                f"folder {key!r} has a name that is not UTF-8 text; rename it (or map a folder above it)"
            ) from exc

        def put(folders: dict) -> bool:
            for spelling in [f for f in folders if _same_folder(f, key)]:
                del folders[spelling]
            folders[key] = name
            return True

        self._edit(put)
        return name

    def remove(self, folder: str) -> None:
        key = normalise_folder(folder)
        missing = []

        def drop(folders: dict) -> bool:
            spellings = [f for f in folders if _same_folder(f, key)]
            if not spellings:
                missing.append(key)
            for spelling in spellings:
                del folders[spelling]
            return bool(spellings)

        self._edit(drop)
        if missing:
            raise ProjectMapError(f"{key} is not in {self.path} (see `jupyter-helpers projects list`)")


def _same_folder(spelling: str, key: str) -> bool:
    return os.path.isabs(os.path.expanduser(spelling)) and normalise_folder(spelling) == key


def project_of(path: str | None) -> str | None:
    """The project of a notebook's path from the map file (as the path reads, or with symlinks
    resolved), cleaned for a message; what kernels and the server name in their messages. A broken
    map only costs the project name (status and the server log name it)."""
    if not path:
        return None
    from .text import clean_name

    try:
        mapping = ProjectStore.default().load()
    except UserError:
        return None
    project = mapping.resolve(normalise_folder(path)) or mapping.resolve(os.path.realpath(path))
    return clean_name(project) or None if project else None


def status() -> tuple[bool, str]:
    """For `jupyter-helpers status`: is the map readable, and what does it hold."""
    store = ProjectStore.default()
    try:
        mapping = store.load()
    except ProjectMapError as exc:
        return False, str(exc)
    if not mapping.folders:
        return True, f"projects: none mapped, titles show the server folder's name ({store.path})"
    return True, f"projects: {len(mapping.folders)} folder(s) mapped in {store.path}"
