"""The delivery child's work: hand each request to ntfy and answer how it went.

It reads one JSON request per line on standard input and answers one JSON line per request on
standard output, until its input ends, its parent is gone, or it has been idle for too long. A
kernel keeps one such child warm (ntfy imported, ~10 ms CPU per message instead of ~300 ms for a
fresh Python); at kernel exit, queued messages each go to a detached child of their own.

Requests and replies are common/delivery_protocol.py's records: "send" goes through ntfy (a photo
through telegram-send); a silent send, "edit" and "delete" are a live message's steps (live.py). A
silent send whose reply finds the kernel gone is ended here, to its `orphaned` text.

The pipes are moved off fds 0/1 at start, which are pointed at /dev/null: ntfy's Telegram setup
calls input() and libraries print, and neither may read a message or corrupt a reply. Every
request runs under an alarm (`limit` plus a grace), so even an orphaned child never lives past its
limit; the parent normally kills a late child first. Reasons never carry the bot token.
"""

from __future__ import annotations

import base64
import io
import logging
import os
import select
import signal
import time
from collections.abc import Iterator
from typing import Any

from ..common.delivery_protocol import EDIT, SEND, Reply, Request, decode_request
from ..common.sender import LIVE_LIMIT, usable_timeout
from ..common.text import (
    PHOTO_LIMIT,
    TELEGRAM_LIMIT,
    TITLE_LIMIT,
    TOKEN_SHAPE,
    clean,
    clean_name,
    cut,
    left_out_note,
    utf16_length,
    with_note,
)
from .channel import ChannelError, backends, check_telegram_credentials, load_ntfy_config, telegram_token

CAPTION_LIMIT = 1024  # Telegram: photo captions (UTF-16 code units, like its 4096 for messages)
ALARM_GRACE = 2.0  # the parent kills at `limit`; the child's own alarm is the backstop
IDLE_EXIT = 30 * 60.0  # the parent closes an idle child after minutes; this covers a lost parent
POLL = 5.0  # how often an idle child checks that its parent is still there
RETRIES = 2  # 429s waited out per backend and message (Telegram's flood control)
RETRY_MARGIN = 2.0  # seconds a retried send needs before the request's time limit


class _LastError(logging.Handler):
    """Keeps the last error ntfy logged instead of printing a traceback with the token in it."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.record: logging.LogRecord | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.record = record


def _reason(record: logging.LogRecord | None) -> str:
    if record is None:
        return "ntfy reported a failure without details"
    if record.exc_info and record.exc_info[1] is not None:
        return _describe(record.exc_info[1], record.getMessage())
    return record.getMessage()


def _describe(error: BaseException, context: str = "") -> str:
    name = type(error).__name__
    if name == "InvalidToken":
        return "Telegram rejected the bot token (check `token` in telegram.ini)"
    return f"{context + ': ' if context else ''}{name}: {error}".strip()


def redact(text: str, token: str | None) -> str:
    if token:
        text = text.replace(token, "<token>")
    return TOKEN_SHAPE.sub("<token>", text)


def photo_plan(text: str) -> tuple[str, str | None]:
    """(caption, follow-up text): the whole text as caption when it fits in 1024; otherwise the
    first line labels the photo (cut to fit) and the whole text follows as its own message."""
    if utf16_length(text) <= CAPTION_LIMIT:
        return text, None
    return cut(text.splitlines()[0], CAPTION_LIMIT), text


def _quiet_logging() -> _LastError:
    errors = _LastError()
    root = logging.getLogger()
    root.handlers[:] = [errors]
    root.setLevel(logging.WARNING)  # httpx logs request URLs, bot token included, at INFO
    return errors


def _send_photo(image: bytes, caption: str) -> None:
    import asyncio

    import telegram_send
    from ntfy.backends.telegram import config_file

    photo = io.BytesIO(image)
    photo.name = "picture.jpg" if image.startswith(b"\xff\xd8") else "picture.png"  # sets the upload's type
    asyncio.run(telegram_send.send(images=[photo], captions=[caption], conf=config_file))


class Undelivered(Exception):
    """The one-line reason a message did not go out (may still contain the token: redact it)."""


def retry_after(record: logging.LogRecord | None) -> float | None:
    """The seconds Telegram's 429 (python-telegram-bot's RetryAfter, logged by ntfy) asked to wait."""
    error = record.exc_info[1] if record is not None and record.exc_info else None
    seconds: Any = getattr(error, "retry_after", None)
    if seconds is None:
        return None
    return float(seconds.total_seconds() if hasattr(seconds, "total_seconds") else seconds)


def _notify(ntfy: Any, text: str, title: str, config: dict, errors: _LastError, deadline: float) -> str | None:
    """One backend's send through ntfy: None when it went out, else why not. A 429 is waited out
    (ntfy's Telegram backend does not retry: a run's final message was lost) while the wait and
    another try fit before `deadline` (time.monotonic()), where the parent kills this child."""
    waited = 0
    while True:
        errors.record = None
        try:
            if not ntfy.notify(text, title, config=config):
                return None
        except SystemExit:
            return "ntfy stopped while reading its configuration"
        except Exception as exc:
            return f"ntfy failed: {type(exc).__name__}: {exc}"
        wait = retry_after(errors.record)
        if waited == RETRIES or wait is None or time.monotonic() + wait + RETRY_MARGIN > deadline:
            return _reason(errors.record)
        waited += 1
        time.sleep(wait)


def deliver(
    text: str, title: str, requested_backend: str, image: bytes | None = None, limit: float | None = None
) -> list[str]:
    """Sends through ntfy (and telegram-send for a photo); returns the backends used, or raises
    Undelivered. Every backend is tried even when one fails; `limit` bounds the whole (seconds).

    Every message passes here, whoever composed it (a kernel, the server, `jupyter-helpers
    notify`): this is where its text gets its final clean and cut (common/text.py), so no sender
    can let escapes through or make Telegram split one message into several."""
    text, title = clean(text, TELEGRAM_LIMIT), clean_name(title, TITLE_LIMIT)
    try:
        config = dict(load_ntfy_config())
        chosen = backends(config, requested_backend)
        if "telegram" in chosen:
            check_telegram_credentials()
    except ChannelError as exc:
        raise Undelivered(str(exc)) from None
    if image is not None and len(image) > PHOTO_LIMIT:  # kernels decide before sending; other senders may not
        text, image = with_note(text, left_out_note(len(image))), None
    deadline = time.monotonic() + usable_timeout(limit)
    errors = _quiet_logging()
    import ntfy

    failures = []
    for backend in chosen:
        follow_up: str | None = text
        if backend == "telegram" and image is not None:
            caption, follow_up = photo_plan(text)
            try:
                _send_photo(image, caption)
            except Exception as exc:  # a picture Telegram refuses must not cost the message itself
                refusal = redact(_describe(exc, "Telegram did not take it"), telegram_token())
                follow_up = with_note(text, f"(picture left out: {refusal})")
        if follow_up is None:
            continue
        failure = _notify(ntfy, follow_up, title, {**config, "backends": [backend]}, errors, deadline)
        if failure is not None:
            failures.append(failure)
    if failures:
        raise Undelivered("; ".join(failures))
    return chosen


def handle(line: bytes) -> Reply:
    """One request line → one reply, under an alarm that ends this process if the send hangs."""
    try:
        request = decode_request(line)
        wait = request.first_wait()
        signal.setitimer(signal.ITIMER_REAL, usable_timeout(request.limit) + wait + ALARM_GRACE)
        if request.verb != SEND or request.silent:
            from .live import live_step

            time.sleep(wait)  # Telegram asked to wait (429) and the kernel has exited meanwhile

            _quiet_logging()  # httpx logs request URLs, bot token included
            reply = live_step(request)
            if reply.ok or not reply.reason:
                return reply
            failure = reply.reason
        else:
            image = base64.b64decode(request.image) if request.image else None
            used = deliver(request.text, request.title, request.backend, image, request.limit)
            return Reply(True, via=", ".join(used))
    except Undelivered as exc:
        reply, failure = Reply(False), str(exc)
    except Exception as exc:  # a reply, not a dead child, for anything unexpected
        reply, failure = Reply(False), _describe(exc, "the sender failed")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    # one line, nothing raw: a reason may quote the message (a terminal shows it, the server logs it)
    return reply._replace(reason=clean_name(redact(failure, telegram_token()), TELEGRAM_LIMIT))


def _requests(fd: int, parent: int) -> Iterator[bytes]:
    """Request lines from `fd` until EOF, a lost parent or a long idle spell."""
    buffer = bytearray()
    idle_since = time.monotonic()
    while True:
        end = buffer.find(b"\n")
        if end >= 0:
            line = bytes(buffer[:end])
            del buffer[: end + 1]
            if line.strip():
                yield line
            idle_since = time.monotonic()  # after the request was handled
            continue
        ready, _, _ = select.select([fd], [], [], POLL)
        if not ready:
            if os.getppid() != parent or time.monotonic() - idle_since > IDLE_EXIT:
                return
            continue
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            return
        buffer += chunk


def _claim_pipes() -> tuple[int, Any]:
    """Moves the request/reply pipes off fds 0 and 1 and points those (and 2) at /dev/null."""
    requests = os.dup(0)
    replies = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    return requests, replies


PRELOAD = (
    "ntfy",
    "ntfy.config",
    "ntfy.backends.telegram",
    "ruamel.yaml",
    "anyio._backends._asyncio",
    "importlib.metadata",
)


def _preload() -> None:
    """Imports what a Telegram message needs (~0.5 s: ntfy's config alone imports `requests`)
    before the first request arrives: a child is started when a message is near (a run crossed
    its threshold), so its first message is as fast as the later ones (measured: 320 -> 30 ms)."""
    import importlib

    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except Exception:
            pass  # the request that needs it reports what is wrong


def orphaned_ending(line: bytes, reply: Reply) -> bytes | None:
    """The edit that ends a live message whose silent send's reply (its id) could not reach the
    kernel, or None. The kernel is gone (killed, or shut down while Telegram was slow to answer),
    so it never wrote the live record the server ends a dead kernel's message by, and the message
    would keep its ⏳ text: this child alone knows the id, so it ends the message itself."""
    try:
        request = decode_request(line)
    except ValueError:
        return None
    if not (request.verb == SEND and request.silent and request.orphaned and reply.ok and reply.message_id is not None):
        return None
    limit = min(usable_timeout(request.limit), LIVE_LIMIT)
    return Request(EDIT, request.orphaned, backend=request.backend, limit=limit, message_id=reply.message_id).encode()


def serve() -> int:
    parent = os.getppid()
    requests, replies = _claim_pipes()
    _preload()
    for line in _requests(requests, parent):
        reply = handle(line)
        try:
            replies.write(reply.encode() + b"\n")
        except BrokenPipeError:  # the kernel is gone (handed-off messages): keep delivering what is queued
            ending = orphaned_ending(line, reply)
            if ending is not None:
                handle(ending)
    return 0
