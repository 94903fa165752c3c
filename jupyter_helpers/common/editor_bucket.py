"""The ActivityWatch bucket the server extension writes and `activitywatch report` reads.

One bucket per host, named as aw-client names watchers' buckets, of the type aw-webui's Editor
view reads (`app.editor.activity`, as aw-watcher-vim and aw-watcher-vscode write): Jupyter time
then shows there with no category rule at all. Only these three fields ever leave the server.
"""

from __future__ import annotations

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
