"""The folder -> project map: load, validate, save, and decide which project a path belongs to.

One JSON file (`jupyter_helpers_projects.json` in the Jupyter config dir) that the CLI edits and
the server extension reads. Decisions are pure functions over `ProjectMap`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from . import paths
from .errors import UserError

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


def validate(raw: object, source: str) -> ProjectMap:
    """Turns the file's JSON into a ProjectMap, or says exactly which entry is wrong."""
    if not isinstance(raw, dict) or not isinstance(raw.get("folders", {}), dict):
        raise ProjectMapError(f'{source}: expected {{"folders": {{"/absolute/folder": "Project name"}}}}')
    folders = {}
    for folder, name in raw.get("folders", {}).items():
        if not isinstance(name, str) or not name.strip():
            raise ProjectMapError(f"{source}: project name for {folder!r} must be a non-empty string, got {name!r}")
        if not os.path.isabs(os.path.expanduser(folder)):
            raise ProjectMapError(f"{source}: folder {folder!r} must be an absolute path (e.g. /home/me/work/alpha)")
        folders[normalise_folder(folder)] = name.strip()
    return ProjectMap(folders)


@dataclass(frozen=True)
class ProjectStore:
    path: Path

    @classmethod
    def default(cls) -> ProjectStore:
        return cls(paths.projects_file())

    def load(self) -> ProjectMap:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ProjectMap()
        except OSError as exc:
            raise ProjectMapError(f"cannot read {self.path}: {exc.strerror}") from exc
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise ProjectMapError(f"{self.path} is not valid JSON ({exc}); fix or delete it") from exc
        return validate(raw, str(self.path))

    def save(self, mapping: ProjectMap) -> None:
        from .changes import atomic_write, check_writable

        check_writable([self.path])
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"folders": dict(sorted(mapping.folders.items()))}, indent=2, ensure_ascii=False)
        atomic_write(self.path, (text + "\n").encode())

    def add(self, folder: str, name: str) -> None:
        if not name.strip():
            raise ProjectMapError("project name must not be empty")
        mapping = self.load()
        self.save(ProjectMap({**mapping.folders, normalise_folder(folder): name.strip()}))

    def remove(self, folder: str) -> None:
        mapping = self.load()
        key = normalise_folder(folder)
        if key not in mapping.folders:
            raise ProjectMapError(f"{key} is not in {self.path} (see `jupyter-helpers projects list`)")
        self.save(ProjectMap({k: v for k, v in mapping.folders.items() if k != key}))


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
