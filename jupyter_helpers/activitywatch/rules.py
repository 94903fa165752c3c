"""ActivityWatch categories from the project map (pure: names in, JSON or query2 text out).

ActivityWatch sees only window titles, which end in the browser's name (`... - Project Alpha —
Mozilla Firefox`, Edge's `... and 2 more pages - Microsoft Edge`). So each rule matches the
project suffix followed by a browser separator, Edge's page count, or the end, never by more
name: `Alpha` does not match `Alphabet`. Regexes use only syntax that both aw-server (Python `re`)
and aw-server-rust (the `regex` crate: no lookarounds) accept.
"""

from __future__ import annotations

import json

from ..common.errors import UserError
from ..common.projects import DEFAULT_TITLE_FORMAT

IMPORT_WARNING = (
    "note: importing this file in ActivityWatch (Settings > Categorization > Import) "
    "REPLACES all your current categories; export yours first to keep them."
)
_META = set("\\.+*?()|[]{}^$#&-~")
_AFTER_SUFFIX = "(?: [-—–] | and \\d+ more pages?|$)"


def portable_escape(text: str) -> str:
    """Escapes regex metacharacters (not spaces, which the Rust engine refuses escaped) and
    writes `"` as \\x22, so the rule also survives query2's unescaped string literals."""
    return "".join("\\x22" if ch == '"' else "\\" + ch if ch in _META else ch for ch in text)


def title_regex(project: str, title_format: str = DEFAULT_TITLE_FORMAT) -> str:
    before, _, after = title_format.partition("{title}")
    if "{project}" in after:
        return portable_escape(after.replace("{project}", project)) + _AFTER_SUFFIX
    return "^" + portable_escape(before.replace("{project}", project))


def parse_parent(text: str) -> list[str]:
    parts = [part.strip() for part in text.split(">")]
    if not all(parts):
        raise UserError(f"--parent {text!r}: write category names separated by '>', e.g. 'Work > Jupyter'")
    return parts


def categories(projects: list[str], parent: list[str], title_format: str = DEFAULT_TITLE_FORMAT) -> list[dict]:
    """aw-webui's category list: the parent chain (no rule of its own), then one rule a project."""
    chain = [{"name": parent[: depth + 1], "rule": {"type": "none"}} for depth in range(len(parent))]
    rules = [
        {
            "name": [*parent, project],
            "rule": {"type": "regex", "regex": title_regex(project, title_format), "ignore_case": True},
        }
        for project in projects
    ]
    return chain + rules


def export_text(projects: list[str], parent: list[str], title_format: str = DEFAULT_TITLE_FORMAT) -> str:
    return json.dumps({"categories": categories(projects, parent, title_format)}, indent=2, ensure_ascii=False)


def _query2_string(text: str) -> str:
    """query2 literals end at an unescaped quote and turn only `\\"` back into `"`."""
    return '"' + text.replace('"', '\\"') + '"'


def query_snippet(projects: list[str], parent: list[str], title_format: str = DEFAULT_TITLE_FORMAT) -> str:
    """`events = categorize(events, [...]);` for a query2. Regexes go in verbatim: query2 does not
    unescape string literals, so JSON's doubled backslashes would reach the regex engine."""
    rules = []
    for category in categories(projects, parent, title_format):
        if category["rule"]["type"] != "regex":
            continue
        name = "[" + ", ".join(_query2_string(part) for part in category["name"]) + "]"
        regex = _query2_string(category["rule"]["regex"])
        rules.append(f'[{name}, {{"type": "regex", "regex": {regex}, "ignore_case": true}}]')
    return "events = categorize(events, [" + ", ".join(rules) + "]);"
