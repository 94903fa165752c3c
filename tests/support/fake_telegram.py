"""A local stand-in for api.telegram.org, reached the way the real one is.

It is an HTTP proxy on 127.0.0.1: clients set HTTPS_PROXY to it, it answers CONNECT, terminates
TLS with a certificate for api.telegram.org signed by a test CA (trustme), and then plays the Bot
API. The real, unmodified ntfy -> telegram-send -> python-telegram-bot -> httpx chain talks to it.
It records every sendMessage and sendPhoto (the photo's bytes kept as they arrived), carries out
editMessageText and deleteMessage with Telegram's 400s and can answer one call 429, answers getMe
and getUpdates (long polling over `user_sends`'s messages: private chats, groups, channel posts,
dated now or earlier; `allowed_updates` filters them as Telegram does), and can answer 401, hang,
or hang on the next request only, or refuse getUpdates as while a webhook is set, or cut its
answers to getUpdates short as a dropped connection does (`mode`).
`read_start_code` finds the one-time code `jupyter-helpers telegram` shows, for `user_taps_start`.
Every request can be answered late (`delay`, seconds), as Telegram does when it is slow.
"""

from __future__ import annotations

import json
import os
import re
import select
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import trustme

HOST = "api.telegram.org"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)


START_LINK = re.compile(rb"https://t\.me/\w+\?start=([A-Za-z0-9_-]+)[^A-Za-z0-9_-]")  # the whole code


def start_code(output: bytes) -> str | None:
    """The one-time code in `jupyter-helpers telegram`'s output (its deep link), once shown whole."""
    found = START_LINK.search(output)
    return found.group(1).decode() if found else None


def read_start_code(fd: int, timeout: float = 60) -> tuple[str, bytes]:
    """Reads `jupyter-helpers telegram`'s output (a pipe or a terminal) until its deep link shows;
    returns the one-time code and every byte read (the caller's later reads start after them)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while (code := start_code(seen)) is None:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no start link within {timeout} s: {seen!r}"
        if select.select([fd], [], [], min(remaining, 0.5))[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # a terminal whose process has ended
                chunk = b""
            assert chunk, f"output ended before a start link: {seen!r}"
            seen += chunk
    return code, seen


def write_credentials(home: Path, token: str, chat_id: int = 4242) -> None:
    """ntfy's telegram.ini in that home, as `jupyter-helpers telegram` would leave it."""
    ntfy = home / ".config" / "ntfy"
    ntfy.mkdir(parents=True, exist_ok=True)
    (ntfy / "telegram.ini").write_text(f"[telegram]\ntoken = {token}\nchat_id = {chat_id}\n")


class _QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def log_message(self, *args: object) -> None:
        pass  # tests read what was recorded, not an access log


class _BotApi(_QuietHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fake = self.server.fake
        method = self.path.rsplit("/", 1)[-1]
        fake.calls.append(method)
        if fake.delay:
            fake.stopping.wait(fake.delay)
        if fake.mode == "hang-once":  # this request hangs, later ones are answered
            fake.mode = "ok"
            fake.stopping.wait(60)
            return
        if fake.mode == "hang":
            fake.stopping.wait(60)
            return
        if fake.mode == "unauthorized":
            self._answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        if method == "getMe":
            bot = {"id": 1, "is_bot": True, "first_name": "t", "username": fake.bot_username}
            self._answer(200, {"ok": True, "result": bot})
            return
        fields = _fields(self.headers.get("Content-Type", ""), body)
        late = fake.take_loss(method, fields)
        if late is not None:
            fake.stopping.wait(late or 60)
            if not late:  # lost: Telegram never answers it, nor carries it out
                return
        if method == "getUpdates" and fake.mode == "webhook":  # what Telegram says while a webhook is set
            self._answer(409, {"ok": False, "error_code": 409, "description": WEBHOOK_CONFLICT})
            return
        if method == "getUpdates" and fake.mode == "cut-short":  # the connection drops mid-answer
            self._answer(200, {"ok": True, "result": []}, missing=50)
            self.close_connection = True
            return
        if method == "getUpdates":
            fake.polls += 1
            self._answer(
                200,
                {
                    "ok": True,
                    "result": fake.updates_after(
                        int(fields.get("offset", 0) or 0),
                        float(fields.get("timeout", 0) or 0),
                        _allowed_updates(self.headers.get("Content-Type", ""), body),
                    ),
                },
            )
            return
        if method == "sendPhoto" and not _whole_picture(fields.get("photo")):
            # what the real Bot API answers for bytes it cannot decode as a picture
            self._answer(400, {"ok": False, "error_code": 400, "description": "Bad Request: IMAGE_PROCESS_FAILED"})
            return
        if method in fake.refusals:  # Telegram's flood control: 429 with the time to wait
            retry_after = fake.refusals.pop(method)
            fake.refused.append((method, time.time()))
            description = f"Too Many Requests: retry after {retry_after}"
            refusal = {"ok": False, "error_code": 429, "description": description}
            self._answer(429, {**refusal, "parameters": {"retry_after": retry_after}})
            return
        if method in ("editMessageText", "deleteMessage"):
            status, payload = fake.change(method, self.path, fields)
            self._answer(status, payload)
            return
        message_id = fake.record(self.path, fields)
        chat = {"id": int(fields.get("chat_id", 0) or 0), "type": "private"}
        message = {"message_id": message_id, "date": int(time.time()), "chat": chat, "text": fields.get("text", "")}
        self._answer(200, {"ok": True, "result": message})

    def _answer(self, status: int, payload: dict, missing: int = 0) -> None:
        """`missing`: bytes promised in Content-Length but never sent."""
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data) + missing))
        self.end_headers()
        self.wfile.write(data)


NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)


def _bad_request(description: str) -> dict:
    return {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}


def _allowed_updates(content_type: str, body: bytes) -> list[str] | None:
    """getUpdates' `allowed_updates` (a JSON list), or None: every kind."""
    if "json" not in content_type:
        return None
    allowed = json.loads(body).get("allowed_updates")
    return allowed if isinstance(allowed, list) and allowed else None


def _whole_picture(photo: object) -> bool:
    """A PNG that ends with its IEND chunk or a JPEG that ends with EOI (a truncated file does not)."""
    if not isinstance(photo, bytes):
        return False
    return (photo.startswith(b"\x89PNG") and photo.endswith(b"IEND\xaeB`\x82")) or (
        photo.startswith(b"\xff\xd8") and photo.endswith(b"\xff\xd9")
    )


def _fields(content_type: str, body: bytes) -> dict:
    """Form fields as text; an uploaded file (multipart part with a filename) as its raw bytes."""
    if "json" in content_type:
        return {k: str(v) for k, v in json.loads(body).items()}
    if "multipart" in content_type:
        boundary = content_type.split("boundary=")[1].strip('"').encode()
        fields: dict = {}
        for part in body.split(b"--" + boundary):
            head, _, value = part.partition(b"\r\n\r\n")
            if b'name="' in head:
                name = head.split(b'name="')[1].split(b'"')[0].decode()
                value = value.removesuffix(b"\r\n")
                fields[name] = value if b"filename=" in head else value.decode()
        return fields
    return {k: v[0] for k, v in parse_qs(body.decode()).items()}


class _Proxy(_QuietHandler):
    def do_CONNECT(self) -> None:
        if not self.path.startswith(HOST + ":"):
            self.send_error(502, "only api.telegram.org is played here")
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        tls = self.server.tls.wrap_socket(self.connection, server_side=True)
        _BotApi(tls, self.client_address, self.server)
        self.close_connection = True


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeTelegram
    tls: ssl.SSLContext


class FakeTelegram:
    """Use as a context manager; `env()` gives the variables that route a process through it."""

    def __init__(self, workdir: Path) -> None:
        self.mode = "ok"
        self.delay = 0.0
        self.bot_username = "t_bot"
        self.messages: list[dict] = []
        self.updates: list[dict] = []  # what users sent the bot (getUpdates), see `user_sends`
        self.polls = 0
        self.calls: list[str] = []  # every Bot API method called, getMe and getUpdates included
        self.current: dict[int, str] = {}  # what each sent message says now (gone once deleted)
        self.refusals: dict[str, int] = {}  # method -> retry_after of its next 429
        self.refused: list[tuple[str, float]] = []  # (method, time.time()) of every 429 answered
        # method -> (which next call of it is lost, or answered late: after how many seconds)
        self.losses: dict[str, tuple[Callable[[dict], bool], float]] = {}
        self.lost: list[tuple[str, dict]] = []  # (method, fields) of every call lost
        self._next_id = 0
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        ca = trustme.CA()
        self.ca_file = workdir / "test-ca.pem"
        ca.cert_pem.write_to_path(str(self.ca_file))
        self._server = _ProxyServer(("127.0.0.1", 0), _Proxy)
        self._server.fake = self
        self._server.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(HOST).configure_cert(self._server.tls)
        # a short poll: shutdown() waits for one, and every test that uses the fake ends with it
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def env(self) -> dict[str, str]:
        proxy = f"http://127.0.0.1:{self.port}"
        return {
            "HTTPS_PROXY": proxy,
            "https_proxy": proxy,
            "SSL_CERT_FILE": str(self.ca_file),
            "NO_PROXY": "",
            "no_proxy": "",
        }

    def record(self, path: str, fields: dict) -> int:
        """Keeps the request's fields and its arrival time (`at`, time.time()); returns the id
        Telegram gives the new message."""
        with self._lock:
            self.messages.append({"path": path, "at": time.time(), **fields})
            self._next_id += 1
            if path.endswith("/sendMessage"):
                self.current[self._next_id] = fields.get("text", "")
            return self._next_id

    def change(self, method: str, path: str, fields: dict) -> tuple[int, dict]:
        """editMessageText / deleteMessage, answered as Telegram does: 400 "message is not
        modified" for the same text, 400 "message to edit (delete) not found" for a message that
        does not exist (or the user deleted); recorded (with `message_id`) only when done."""
        message_id = int(fields.get("message_id", 0) or 0)
        with self._lock:
            if message_id not in self.current:
                verb = "edit" if method == "editMessageText" else "delete"
                return 400, _bad_request(f"message to {verb} not found")
            if method == "editMessageText" and self.current[message_id] == fields.get("text"):
                return 400, _bad_request(NOT_MODIFIED)
            self.messages.append({"path": path, "at": time.time(), **fields})
            if method == "deleteMessage":
                del self.current[message_id]
                return 200, {"ok": True, "result": True}
            self.current[message_id] = fields.get("text", "")
        chat = {"id": int(fields.get("chat_id", 0) or 0), "type": "private"}
        message = {"message_id": message_id, "date": int(time.time()), "chat": chat, "text": fields.get("text", "")}
        return 200, {"ok": True, "result": message}

    def user_deletes(self, message_id: int) -> None:
        """The user deletes a message in the chat."""
        with self._lock:
            self.current.pop(message_id, None)

    def refuse_next(self, method: str, retry_after: int) -> None:
        """The next call of `method` gets 429 Too Many Requests with `retry_after` seconds."""
        with self._lock:
            self.refusals[method] = retry_after

    def lose_next(self, method: str, which: Callable[[dict], bool] = lambda fields: True, late: float = 0) -> None:
        """The next call of `method` whose fields `which` picks hangs unanswered and is not
        carried out (a request lost on the way, or a Telegram slower than any time limit); with
        `late`, it is carried out and answered after that many seconds (a slow Telegram)."""
        with self._lock:
            self.losses[method] = (which, late)

    def take_loss(self, method: str, fields: dict) -> float | None:
        """None for a call answered as usual, else its `late` (0: lost), recorded in `lost`."""
        with self._lock:
            which, late = self.losses.get(method, (None, 0))
            if which is None or not which(fields):
                return None
            del self.losses[method]
            self.lost.append((method, fields))
            return late

    def changes(self) -> list[dict]:
        """Every editMessageText and deleteMessage Telegram carried out, in order."""
        with self._lock:
            return [
                message for message in self.messages if message["path"].endswith(("/editMessageText", "/deleteMessage"))
            ]

    def sends(self) -> list[dict]:
        """Every sendMessage as recorded (`disable_notification`: "true" for a silent one)."""
        with self._lock:
            return [message for message in self.messages if message["path"].endswith("/sendMessage")]

    def user_sends(
        self, text: str, chat_id: int = 4242, first_name: str = "Ada", chat_type: str = "private", age: float = 0.0
    ) -> None:
        """Someone sends the bot a message (it shows up in getUpdates), `age` seconds ago: in a
        private chat, or in a group, supergroup or channel (`chat_id` is then the group's)."""
        sender = {"id": chat_id if chat_type == "private" else 777, "is_bot": False, "first_name": first_name}
        if chat_type == "private":
            chat: dict = {"id": chat_id, "type": "private", "first_name": first_name}
        else:
            chat = {"id": chat_id, "type": chat_type, "title": f"A {chat_type}"}
        with self._lock:
            update_id = 1000 + len(self.updates)
            message = {"message_id": update_id, "date": int(time.time() - age), "chat": chat, "text": text}
            if chat_type == "channel":  # a channel's posts come as channel_post, from nobody
                self.updates.append({"update_id": update_id, "channel_post": message})
            else:
                self.updates.append({"update_id": update_id, "message": {**message, "from": sender}})

    def user_taps_start(self, code: str, chat_id: int = 4242, first_name: str = "Ada") -> None:
        """What tapping `jupyter-helpers telegram`'s link and Start sends: `/start <code>`."""
        self.user_sends(f"/start {code}", chat_id, first_name)

    def updates_after(self, offset: int, timeout: float, allowed: list[str] | None = None) -> list[dict]:
        """getUpdates: updates with update_id >= offset of the allowed kinds, waiting up to
        `timeout` (capped) for one."""
        deadline = time.monotonic() + min(timeout, 5.0)
        while True:
            with self._lock:
                found = [
                    update
                    for update in self.updates
                    if update["update_id"] >= offset and (allowed is None or any(kind in update for kind in allowed))
                ]
            if found or time.monotonic() >= deadline or self.stopping.is_set():
                return found
            time.sleep(0.05)

    def texts(self) -> list[str]:
        """The text of every sendMessage, in arrival order (photos are in `photos()`)."""
        with self._lock:
            return [message.get("text", "") for message in self.messages if message["path"].endswith("/sendMessage")]

    def photos(self) -> list[dict]:
        """Every sendPhoto as recorded: `photo` holds the uploaded bytes, `caption` the text."""
        with self._lock:
            return [message for message in self.messages if message["path"].endswith("/sendPhoto")]

    def methods(self) -> list[str]:
        """The Bot API method of every recorded request, in arrival order."""
        with self._lock:
            return [message["path"].rsplit("/", 1)[-1] for message in self.messages]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[str]:
        """Bounded wait until at least `count` messages arrived; returns what arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.messages) < count:
            time.sleep(0.05)
        return self.texts()

    def __enter__(self) -> FakeTelegram:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
