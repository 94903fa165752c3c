"""Keys jupyter-helpers sets in a JSON config file the user owns (pure: config in, config out).

A traitlets JSON config is {"Section": {"key": value, ...}, ...}. We set only our keys and remember,
per key, the value we set and what the user had there before; undo puts back only the keys that
still hold our value, so whatever the user changed since (a password, a port, our own key set to
something else) stays theirs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from ..common.files import BadJson, ChangeError, load_json

Settings = Mapping[str, Mapping[str, Any]]  # section -> key -> value


class KeyRecord(TypedDict):
    value: Any  # what we set
    before: NotRequired[Any]  # what the user had there (absent: nothing)


def key_name(section: str, key: str) -> str:
    return f"{section}.{key}"


def parse_config(data: bytes | None, path: Path, sections: Iterable[str]) -> dict[str, Any]:
    """The file as a config object ({} when there is none); a one-line ChangeError when it is
    not one we can edit key by key without losing anything."""
    if data is None:
        return {}
    try:
        config = load_json(data)
    except BadJson as exc:
        raise ChangeError(f"cannot read {path} ({exc}); fix it first") from None
    if not isinstance(config, dict):
        raise ChangeError(f"{path} must hold a JSON object; fix it first")
    for section in sections:
        if not isinstance(config.get(section, {}), dict):
            raise ChangeError(f'"{section}" in {path} must be a JSON object (e.g. {{"{section}": {{}}}}); '
                              "fix it first")
    return config


def dump(config: Mapping[str, Any]) -> bytes:
    return (json.dumps(config, indent=2) + "\n").encode()


def with_keys(config: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """The config with our keys set; everything else as it was."""
    result = dict(config)
    for section, keys in settings.items():
        result[section] = {**(config.get(section) or {}), **keys}
    return result


_MISSING = object()


def remembered(records: Mapping[str, KeyRecord], config: Mapping[str, Any], settings: Settings
               ) -> dict[str, KeyRecord]:
    """What undo must know per key: the value we set, and what the user had there before. A key
    the user set to something else since our last run counts as theirs again."""
    result = dict(records)
    for section, keys in settings.items():
        current = config.get(section) or {}
        for key, value in keys.items():
            name = key_name(section, key)
            old = records.get(name)
            ours = old is not None and current.get(key, _MISSING) == old["value"]
            record: KeyRecord = {"value": value}
            if ours and old is not None and "before" in old:
                record["before"] = old["before"]
            elif not ours and key in current:
                record["before"] = current[key]
            result[name] = record
    return result


def without_keys(config: Mapping[str, Any], records: Mapping[str, KeyRecord], created: Iterable[str]
                 ) -> tuple[dict[str, Any], list[str], list[str]]:
    """The config with each recorded key put back where it still holds our value; returns
    (config, keys put back, keys the user changed since). A section we created goes when empty."""
    result = {section: dict(value) if isinstance(value, dict) else value for section, value in config.items()}
    back, kept = [], []
    for name, record in records.items():
        section, _, key = name.partition(".")
        keys = result.get(section)
        if isinstance(keys, dict) and key in keys and keys[key] == record["value"]:
            if "before" in record:
                keys[key] = record["before"]
            else:
                del keys[key]
            back.append(name)
        else:
            kept.append(name)
    for section in created:
        if result.get(section) == {}:
            del result[section]
    return result, back, kept
