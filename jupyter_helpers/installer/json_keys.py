"""Keys jupyter-helpers sets in a JSON config file the user owns (pure: config in, config out).

A traitlets JSON config is {"Section": {"key": value, ...}, ...}. We set only our keys and remember,
per key, the value we set and what the user had there before; undo puts back only the keys that
still hold our value, so whatever the user changed since (a password, a port, our own key set to
something else) stays theirs.

A list-valued key (`InteractiveShellApp.extra_extensions`) is shared rather than set: `Members`
appends our items to whatever list the owner keeps there, and undo takes out only the items we
appended (an item the owner listed before us stays, and so does every other entry).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from ..common.files import BadJson, ChangeError, load_json


@dataclass(frozen=True)
class Members:
    """Items that must be in a list-valued key (appended when missing), in a list we share."""

    items: tuple[str, ...]


Settings = Mapping[str, Mapping[str, Any]]  # section -> key -> value (or Members)


class KeyRecord(TypedDict):
    value: Any  # what we set (for Members: the items)
    before: NotRequired[Any]  # what the user had there (absent: nothing)
    added: NotRequired[list[str]]  # Members only: the items we appended (undo takes out these)
    created: NotRequired[bool]  # Members only: the key did not exist, so it goes when its list empties


def key_name(section: str, key: str) -> str:
    return f"{section}.{key}"


def parse_config(
    data: bytes | None, path: Path, sections: Iterable[str], settings: Settings | None = None
) -> dict[str, Any]:
    """The file as a config object ({} when there is none); a one-line ChangeError when it is
    not one we can edit key by key without losing anything (with `settings`: a key we share
    as a list must hold a list)."""
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
            raise ChangeError(f'"{section}" in {path} must be a JSON object (e.g. {{"{section}": {{}}}}); fix it first')
    for section, keys in (settings or {}).items():
        for key, value in keys.items():
            if isinstance(value, Members) and not isinstance((config.get(section) or {}).get(key, []), list):
                raise ChangeError(
                    f'"{key_name(section, key)}" in {path} must be a list '
                    f'(e.g. "{key}": ["{value.items[0]}"]); fix it first'
                )
    return config


def dump(config: Mapping[str, Any]) -> bytes:
    return (json.dumps(config, indent=2) + "\n").encode()


def with_keys(config: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    """The config with our keys set (our items appended to shared lists); everything else as it was."""
    result = dict(config)
    for section, keys in settings.items():
        merged = dict(config.get(section) or {})
        for key, value in keys.items():
            if isinstance(value, Members):
                current = list(merged.get(key) or [])
                merged[key] = current + [item for item in value.items if item not in current]
            else:
                merged[key] = value
        result[section] = merged
    return result


_MISSING = object()


def remembered(records: Mapping[str, KeyRecord], config: Mapping[str, Any], settings: Settings) -> dict[str, KeyRecord]:
    """What undo must know per key: the value we set, and what the user had there before. A key
    the user set to something else since our last run counts as theirs again."""
    result = dict(records)
    for section, keys in settings.items():
        current = config.get(section) or {}
        for key, value in keys.items():
            name = key_name(section, key)
            old = records.get(name)
            if isinstance(value, Members):
                result[name] = _members_record(old, current, key, value)
                continue
            ours = old is not None and current.get(key, _MISSING) == old["value"]
            record: KeyRecord = {"value": value}
            if ours and old is not None and "before" in old:
                record["before"] = old["before"]
            elif not ours and key in current:
                record["before"] = current[key]
            result[name] = record
    return result


def _members_record(old: KeyRecord | None, section: Mapping[str, Any], key: str, members: Members) -> KeyRecord:
    """Ours are the items we appended before and that are still there, plus those we append now;
    an item the owner listed themselves is never ours."""
    present = section.get(key) or []
    earlier = old.get("added", []) if old is not None else []
    added = [item for item in members.items if item not in present or (item in earlier)]
    created = old.get("created", False) if old is not None else key not in section
    return {"value": list(members.items), "added": added, "created": created}


def _take_out(keys: dict[str, Any], key: str, record: KeyRecord) -> bool:
    """Removes the items we appended from a shared list; False when none of them is there any more
    (the owner took them out since). A list we created goes when it is left empty."""
    current = keys.get(key)
    if not isinstance(current, list):
        return not record.get("added")
    ours = [item for item in record.get("added", []) if item in current]
    keys[key] = [item for item in current if item not in ours]
    if not keys[key] and record.get("created"):
        del keys[key]
    return bool(ours) or not record.get("added")


def without_keys(
    config: Mapping[str, Any], records: Mapping[str, KeyRecord], created: Iterable[str]
) -> tuple[dict[str, Any], list[str], list[str]]:
    """The config with each recorded key put back where it still holds our value; returns
    (config, keys put back, keys the user changed since). A section we created goes when empty."""
    result = {section: dict(value) if isinstance(value, dict) else value for section, value in config.items()}
    back: list[str] = []
    kept: list[str] = []
    for name, record in records.items():
        section, _, key = name.partition(".")
        keys = result.get(section)
        if "added" in record:
            (back if isinstance(keys, dict) and _take_out(keys, key, record) else kept).append(name)
        elif isinstance(keys, dict) and key in keys and keys[key] == record["value"]:
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
