"""The configuration in effect, read the way its consumers read it: traitlets' own loaders, and
Jupyter's config folders in the server's order (a hub's disabled user config included). `status` and the
ActivityWatch report use it, so "ok" and the report's defaults mean what the server will do."""

from __future__ import annotations

import json
from pathlib import Path

from ..common import hub, paths
from ..common.autonotify import cannot_load
from ..common.editor_bucket import DEFAULT_URL, api_key_problem, url_problem


class ConfigUnreadable(Exception):
    """A config file traitlets cannot load; str() is one line naming it."""


def load_traitlets_config(path: Path) -> dict:
    """A .py or .json config file as traitlets loads it ({} when absent)."""
    from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

    if not path.is_file():
        return {}
    loader = PyFileConfigLoader if path.suffix == ".py" else JSONFileConfigLoader
    try:
        config = loader(path.name, path=str(path.parent)).load_config()
    except (Exception, SystemExit) as exc:  # user code in a .py config can raise anything, exit included
        raise ConfigUnreadable(cannot_load(path, exc)) from exc
    for name, value in config.items():  # JSON can give a section a plain value; traitlets keeps it
        if name[:1].isupper() and not isinstance(value, dict):
            raise ConfigUnreadable(
                f"cannot load {path} ({name} is {_kind(value)}, not a section of settings: write {name}.name = value)"
            )
    return config


def _kind(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a text"
    return "a list" if isinstance(value, list) else f"a {type(value).__name__}"


def setting(files: list[Path], section: str, key: str) -> tuple[object, Path | None]:
    """The value the last of `files` to set `section.key` gives it (later files win)."""
    value, source = None, None
    for path in files:
        config = load_traitlets_config(path)
        if section in config and key in config[section]:
            value, source = config[section][key], path
    return value, source


def lazy(value: object, previous: object) -> object:
    """A `.append(...)`-style value from a .py config, applied to what the earlier files set."""
    from traitlets.config.loader import LazyConfigValue

    return (
        value.get_value(previous if isinstance(previous, list) else []) if isinstance(value, LazyConfigValue) else value
    )


def server_config_dirs() -> list[Path]:
    """The Jupyter config folders the server reads, highest priority first; on a hub with per-user
    config disabled, without those in the user's home (as jupyterhub-singleuser drops them)."""
    from jupyter_core.paths import jupyter_config_path

    folders = jupyter_config_path()
    if paths.jupyter_config_dir() not in map(Path, folders):
        folders.insert(0, str(paths.jupyter_config_dir()))
    return [Path(folder) for folder in (hub.outside_home(folders) if hub.user_config_disabled() else folders)]


def server_config_files(folders: list[Path]) -> list[Path]:
    """jupyter_server_config.py/.json in each folder, lowest priority first."""
    return [d / f"jupyter_server_config{suffix}" for d in reversed(folders) for suffix in paths.CONFIG_SUFFIXES]


def server_section(section: str) -> dict[str, tuple[object, Path]]:
    """`c.<section>.*` as the Jupyter server sees them: key -> (value, the file that sets it)."""
    found: dict[str, tuple[object, Path]] = {}
    for path in server_config_files(server_config_dirs()):
        config = load_traitlets_config(path)
        if section in config:
            found.update((key, (value, path)) for key, value in config[section].items())
    return found


def activitywatch_server() -> tuple[str, str | None]:
    """The aw-server URL and API key the Jupyter server's heartbeats use (`c.ActivityWatch.url` and
    `.api_key`), checked as a header must carry them, so `status` and the report ask where the
    heartbeats go."""
    section = server_section("ActivityWatch")
    values: dict[str, str | None] = {}
    for key in ("url", "api_key"):
        value, where = section.get(key, (None, None))
        if value is not None and not isinstance(value, str):
            raise ConfigUnreadable(f"c.ActivityWatch.{key} in {where} must be a string, not {type(value).__name__}")
        why = (url_problem if key == "url" else api_key_problem)(value) if value else None
        if why:
            raise ConfigUnreadable(
                f"c.ActivityWatch.{key} in {where}: {why}"
                if key == "url"
                else f"c.ActivityWatch.{key} in {where} {why}"
            )
        values[key] = value or None
    return values["url"] or DEFAULT_URL, values["api_key"]
