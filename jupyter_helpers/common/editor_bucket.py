"""The ActivityWatch bucket the server extension writes and `activitywatch report` reads.

One bucket per host, named as aw-client names watchers' buckets, of the type aw-webui's Editor
view reads (`app.editor.activity`, as aw-watcher-vim and aw-watcher-vscode write): Jupyter time
then shows there with no category rule at all. Only these three fields ever leave the server.
"""

from __future__ import annotations

import urllib.parse
from typing import TypedDict

DEFAULT_URL = "http://127.0.0.1:5600"  # where aw-server listens unless told otherwise
BUCKET_TYPE = "app.editor.activity"
BUCKET_PREFIX = "aw-watcher-jupyter_"
CLIENT = "aw-watcher-jupyter"


class EditorData(TypedDict):
    file: str  # the document's absolute path
    project: str  # its project from the map, else the name of the folder Jupyter started in
    language: str  # the kernel's language ("python"), else from the file type


def bucket_id(host: str) -> str:
    return BUCKET_PREFIX + host


def url_problem(url: str) -> str | None:
    """Why `url` cannot be aw-server's address, or None: one check for the server's heartbeats,
    `status` and the report, so none of them accepts what another refuses."""
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535", ...
        return f"{exc}; expected an http:// URL such as {DEFAULT_URL}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"expected an http:// URL such as {DEFAULT_URL}"
    return None


def api_key_problem(api_key: str) -> str | None:
    """Why the key cannot travel in an HTTP header (tornado and urllib take ASCII only), or None."""
    if api_key and not (api_key.isascii() and api_key.isprintable()):
        return "has characters other than printable ASCII (it travels in an HTTP header)"
    return None
