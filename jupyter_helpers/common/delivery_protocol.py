"""The delivery child's protocol, one typed record each way: a `Request` line in, a `Reply` line
out (JSON), encoded and decoded here for both sides (common/sender.py and child.py in the kernel
or server, delivery/send.py in the child). Standard library only: kernels import it.

Verbs: "send" a message through the chosen ntfy backends (with `silent`: a silent Telegram message
whose id comes back, the start of a live message); "edit" or "delete" the Telegram message
`message_id`. Backends other than Telegram cannot edit: the reply says `cannot`. A silent send
carries `orphaned`, the text the child edits its message to when the reply cannot reach the
sender (the kernel is gone): nobody else will ever know the id, so nobody else can end it.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

SEND, EDIT, DELETE = "send", "edit", "delete"
VERBS = (SEND, EDIT, DELETE)
WAIT_LIMIT = 60.0  # seconds a live step may wait before it is carried out (Request.wait)


class Request(NamedTuple):
    verb: str = SEND
    text: str = ""
    title: str = ""
    backend: str = ""  # '' = the backends in ntfy.yml, else telegram
    image: str | None = None  # base64 of a PNG/JPEG to send as a photo (send only)
    limit: float = 30.0  # seconds the child may take before it ends itself
    silent: bool = False  # send: Telegram only, without a buzz, and the message id comes back
    message_id: int | None = None  # edit, delete: the id Telegram returned for the message
    wait: float = 0.0  # edit, delete: seconds to wait first (a 429's retry_after, at kernel exit)
    orphaned: str = ""  # silent send: its message's text if the reply finds its sender gone ('': left as is)

    def encode(self) -> bytes:
        return json.dumps(self._asdict()).encode()

    def first_wait(self) -> float:
        """`wait`, bounded: a detached child never lingers longer than WAIT_LIMIT for it."""
        return min(max(self.wait, 0.0), WAIT_LIMIT)


class Reply(NamedTuple):
    ok: bool
    via: str = ""  # the backends used
    reason: str = ""  # why not (one line, never the bot token)
    message_id: int | None = None  # a silent send: the id Telegram gave the message
    retry_after: float | None = None  # Telegram said 429: wait this many seconds
    gone: bool = False  # edit, delete: the message no longer exists (the user deleted it)
    cannot: bool = False  # edit, delete, silent send: no backend of this request can do it

    def encode(self) -> bytes:
        """`ok` and the fields that differ from their defaults: `{"ok": true, "via": "telegram"}`."""
        fields = {name: value for name, value in self._asdict().items() if value != self._field_defaults.get(name)}
        return json.dumps({"ok": self.ok, **fields}).encode()


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def decode_request(line: bytes) -> Request:
    """Raises ValueError for a line that is not a request of this shape."""
    data = json.loads(line)
    if not isinstance(data, dict) or data.get("verb", SEND) not in VERBS:
        raise ValueError("not a delivery request")
    message_id = data.get("message_id")
    return Request(
        verb=data.get("verb", SEND),
        text=str(data.get("text") or ""),
        title=str(data.get("title") or ""),
        backend=str(data.get("backend") or ""),
        image=data["image"] if isinstance(data.get("image"), str) else None,
        limit=_number(data.get("limit")) or 0.0,
        silent=data.get("silent") is True,
        message_id=message_id if isinstance(message_id, int) and not isinstance(message_id, bool) else None,
        wait=_number(data.get("wait")) or 0.0,
        orphaned=str(data.get("orphaned") or ""),
    )


def decode_reply(line: bytes) -> Reply:
    """Raises ValueError for a line that is not a reply of this shape."""
    data = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError("not a delivery reply")
    message_id = data.get("message_id")
    return Reply(
        ok=data.get("ok") is True,
        via=str(data.get("via") or ""),
        reason=str(data.get("reason") or ""),
        message_id=message_id if isinstance(message_id, int) and not isinstance(message_id, bool) else None,
        retry_after=_number(data.get("retry_after")),
        gone=data.get("gone") is True,
        cannot=data.get("cannot") is True,
    )
