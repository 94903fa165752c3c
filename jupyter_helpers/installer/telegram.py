"""`jupyter-helpers telegram`: from a bot token to a working telegram.ini, without reading JSON.

The hard part of setting up Telegram by hand is the chat id: it only shows in the Bot API's
getUpdates answer once the user has written to the bot. A bot's name is public, so "the first chat
that writes" may be a stranger's, or a group's: setup pairs by deep link instead (the pattern
Telegram documents for binding a chat). Check the token (getMe), make a one-time code, show the
link `https://t.me/<bot>?start=<code>`, wait (getUpdates, long polling) for a private chat to send
that code after the command started, write `token` and `chat_id` into ntfy's telegram.ini key by
key (the rest of the user's file stays, its line ends too, mode 0600, under its lock) and let the
caller send a test message through the real delivery path.

Plain HTTPS with the standard library (urllib honours HTTPS_PROXY and SSL_CERT_FILE), so the
installer needs nothing the delivery child has. The token is a password: no message shows it.
"""

from __future__ import annotations

import configparser
import email.utils
import http.client
import json
import re
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..common import paths
from ..common.errors import UserError
from ..common.files import BadJson, atomic_write, check_writable, load_json, read, sweep_temps, write_error
from ..common.locks import locked
from ..common.text import TOKEN_SHAPE

API = "https://api.telegram.org"
SECTION = "telegram"
POLL = 25.0  # seconds one getUpdates long poll may wait (Telegram allows up to 50)
CODE_BYTES = 6  # secrets.token_urlsafe(6): 8 characters of [A-Za-z0-9_-], 48 random bits
USERNAME = re.compile(r"[A-Za-z0-9_]{1,64}")  # what Telegram allows in a bot's username
UPDATES = ("message", "channel_post")  # channel posts are asked for only to be counted as ignored


class TelegramError(UserError):
    """Something between here and the bot went wrong; the message never holds the token."""


@dataclass(frozen=True)
class Chat:
    id: int
    name: str


@dataclass(frozen=True)
class Bot:
    username: str
    clock: float  # Telegram's time when it answered getMe (its Date header), else ours


@dataclass(frozen=True)
class Pairing:
    """How the wait for the code ended: the chat that sent it (None: none within the wait), and
    how many other messages arrived meanwhile (strangers, other codes, groups, channels)."""

    chat: Chat | None
    ignored: int


def new_code() -> str:
    """The one-time pairing code: random, and only shown to whoever runs the command."""
    return secrets.token_urlsafe(CODE_BYTES)


def start_link(bot: str, code: str) -> str:
    """Tapping it and Start makes Telegram send `/start <code>` from the user's private chat."""
    return f"https://t.me/{bot}?start={code}"


def check_token_shape(token: str) -> str:
    token = token.strip()
    if not TOKEN_SHAPE.fullmatch(token):
        raise TelegramError(
            "that is not a bot token: @BotFather gives one like 123456789:AAE... "
            "(digits, a colon, then letters); copy it again"
        )
    return token


class BotApi:
    """The few Bot API methods setup needs, over HTTPS."""

    def __init__(self, token: str) -> None:
        self._token = token
        self._opener = urllib.request.build_opener()  # proxies from the environment, as ntfy's httpx does

    def call(self, method: str, fields: Mapping[str, object], timeout: float) -> object:
        return self._post(method, fields, timeout)[0]

    def _post(self, method: str, fields: Mapping[str, object], timeout: float) -> tuple[object, float | None]:
        """The method's result, and Telegram's clock when it answered (None without a Date header)."""
        request = urllib.request.Request(
            f"{API}/bot{self._token}/{method}",
            data=json.dumps(fields).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with self._opener.open(request, timeout=timeout) as response:
                body = response.read()
                clock = _clock(response.headers.get("Date"))
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 404):
                raise TelegramError(
                    f"Telegram rejected the bot token ({method}: HTTP {exc.code}); copy it again from @BotFather"
                ) from None
            said = _description(exc)  # e.g. 409: a webhook is set, which retrying does not change
            raise TelegramError(
                self._redact(
                    f"Telegram answered {method} with HTTP {exc.code}" + (f": {said}" if said else "; try again later")
                )
            ) from None
        except http.client.HTTPException as exc:  # e.g. IncompleteRead: the connection dropped mid-answer
            raise TelegramError(
                f"Telegram's answer to {method} was cut short ({type(exc).__name__}); try again"
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
            text = getattr(reason, "strerror", None) or str(reason) or type(reason).__name__
            raise TelegramError(
                self._redact(
                    f"cannot reach api.telegram.org ({text}); check the network, or HTTPS_PROXY if you need a proxy"
                )
            ) from None
        try:
            answer = load_json(body)
        except BadJson:
            raise TelegramError(f"api.telegram.org did not answer {method} with JSON (a proxy in the way?)") from None
        if not isinstance(answer, dict) or answer.get("ok") is not True:
            raise TelegramError(self._redact(f"Telegram refused {method}: {answer}"))
        return answer.get("result"), clock

    def _redact(self, text: str) -> str:
        return text.replace(self._token, "<token>")

    def bot(self) -> Bot:
        asked = time.time()
        me, clock = self._post("getMe", {}, timeout=30)
        username = me.get("username") if isinstance(me, dict) else None
        if not isinstance(username, str) or not USERNAME.fullmatch(username):
            raise TelegramError("Telegram's getMe answer names no bot; check the token")
        return Bot(username, asked if clock is None else clock)

    def wait_for_code(self, bot: Bot, code: str, wait: float) -> Pairing:
        """The private chat that sends `code` within `wait` seconds. Only messages dated from
        getMe's answer on count (by Telegram's clock: a WSL clock that drifted must not hide the
        owner's message); anything else that arrives meanwhile is counted, never shown."""
        deadline = time.monotonic() + wait
        offset, ignored = 0, 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Pairing(None, ignored)
            poll = min(POLL, remaining)
            updates = self.call(
                "getUpdates",
                {"offset": offset, "timeout": int(poll), "allowed_updates": list(UPDATES)},
                timeout=poll + 15,
            )
            for update in updates if isinstance(updates, list) else []:
                if not isinstance(update, dict):
                    continue
                if isinstance(update.get("update_id"), int):
                    offset = max(offset, update["update_id"] + 1)
                message = _sent_since(update, int(bot.clock))
                if message is None:
                    continue  # waiting from before the command: not an answer to this code
                chat = _paired_chat(message, code, bot.username)
                if chat is not None:
                    return Pairing(chat, ignored)
                ignored += 1


def _clock(date: str | None) -> float | None:
    try:
        return email.utils.parsedate_to_datetime(date).timestamp() if date else None
    except (TypeError, ValueError):
        return None


def _sent_since(update: dict[str, object], since: int) -> dict[str, object] | None:
    """The update's message or channel post if Telegram dated it `since` or later."""
    for kind in UPDATES:
        message = update.get(kind)
        if isinstance(message, dict):
            date = message.get("date")
            return message if isinstance(date, int) and date >= since else None
    return None


def carries_code(text: str, code: str, bot: str) -> bool:
    """`/start <code>` (what the deep link sends; `/start@bot <code>` as typed) or the code alone."""
    words = text.split()
    if words == [code]:
        return True
    return len(words) == 2 and words[0].lower() in ("/start", f"/start@{bot.lower()}") and words[1] == code


def _paired_chat(message: dict[str, object], code: str, bot: str) -> Chat | None:
    chat, text = message.get("chat"), message.get("text")
    if not isinstance(chat, dict) or chat.get("type") != "private" or not isinstance(chat.get("id"), int):
        return None
    if not isinstance(text, str) or not carries_code(text, code, bot):
        return None
    parts = [chat.get(key) for key in ("first_name", "last_name")]
    name = " ".join(part for part in parts if isinstance(part, str)) or str(chat["id"])
    return Chat(chat["id"], "".join(ch if ch.isprintable() else " " for ch in name))


def _description(error: urllib.error.HTTPError) -> str:
    """The Bot API's own words for an error (`description`), printable and short, or ''."""
    try:
        answer = load_json(error.read(10_000))
    except (BadJson, OSError):
        return ""
    said = answer.get("description") if isinstance(answer, dict) else None
    return "".join(ch for ch in said if ch.isprintable())[:300] if isinstance(said, str) else ""


_HEADER = re.compile(r"\s*\[([^\]]*)\]")


def set_ini_keys(text: str, section: str, values: Mapping[str, str]) -> str:
    """`text` (an INI file as configparser reads it) with `values` set in `section`: a key's line
    (and its continuation lines) is replaced where it is, missing keys go at the end of the
    section, a missing section at the end of the file. Every other line stays as it was, and new
    lines end as the file's first line does (CRLF from Windows editors stays CRLF throughout)."""
    lines = text.splitlines(keepends=True)
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += newline
    wanted = {key.lower(): f"{key} = {value}{newline}" for key, value in values.items()}
    start = next((i for i, line in enumerate(lines) if (m := _HEADER.match(line)) and m.group(1) == section), None)
    if start is None:
        gap = [newline] if lines and lines[-1].strip() else []
        return "".join(lines + gap + [f"[{section}]{newline}", *wanted.values()])
    end = next((i for i in range(start + 1, len(lines)) if _HEADER.match(lines[i])), len(lines))
    body, index = [], start + 1
    while index < end:
        line = lines[index]
        key = re.split(r"[=:]", line, maxsplit=1)[0].strip().lower() if not line[:1].isspace() else None
        index += 1
        if key in wanted:
            body.append(wanted.pop(key))
            while index < end and lines[index][:1].isspace() and lines[index].strip():
                index += 1  # the old value's continuation lines
        else:
            body.append(line)

    def last(keep: Callable[[str], bool]) -> int:
        return max((i for i, line in enumerate(body) if keep(line)), default=-1)

    after = last(lambda line: bool(line.strip()) and not line.lstrip().startswith(("#", ";")))
    if after < 0:  # no key yet: after what the section holds (its comments), before blank lines
        after = last(lambda line: bool(line.strip()))
    body[after + 1 : after + 1] = list(wanted.values())
    return "".join(lines[: start + 1] + body + lines[end:])


def _as_ntfy_reads(text: str) -> configparser.ConfigParser:
    """telegram-send reads telegram.ini with a default ConfigParser; so does the delivery child."""
    parser = configparser.ConfigParser()
    parser.read_string(text)
    return parser


def _updated(path: Path, current: bytes | None, values: Mapping[str, str]) -> bytes:
    """The file with `values` set, refused unless ntfy will read back exactly those values: this
    edit keeps the user's lines, and a form it does not follow (an indented key, a value running
    over a blank line, CR line ends) must stop it rather than leave a token ntfy reads wrong."""
    try:
        text = (current or b"").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TelegramError(f"{path} is not UTF-8 text (byte {exc.start}); fix or remove it") from None
    try:
        _as_ntfy_reads(text)
    except (configparser.Error, RecursionError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]  # never a value: no token shown
        raise TelegramError(f"ntfy cannot read {path} as it is ({first}); fix or remove it") from None
    updated = set_ini_keys(text, SECTION, values)
    try:
        back = _as_ntfy_reads(updated)
        same = all(back.get(SECTION, key, raw=True, fallback=None) == value for key, value in values.items())
    except (configparser.Error, RecursionError):
        same = False
    if not same:
        raise TelegramError(
            f"cannot set {', '.join(values)} in {path} safely (an indented key, a value over "
            f"several lines, or CR line ends in [{SECTION}]?); fix that section by hand or "
            "move the file away, and run this again"
        )
    return updated.encode()


def check_credentials_file() -> None:
    """What `write_credentials` would refuse, found before the user is sent to their phone."""
    path = paths.telegram_ini()
    check_writable([path])
    try:
        _updated(path, read(path), {"token": "0:placeholder", "chat_id": "0"})
    except OSError as exc:
        raise write_error(exc, path, "nothing was changed") from exc


def write_credentials(token: str, chat_id: int) -> Path:
    """Sets token and chat_id in telegram.ini (mode 0600), under its lock; everything else stays."""
    path = paths.telegram_ini()
    check_writable([path])
    try:
        with locked(path):
            sweep_temps(path)
            atomic_write(path, _updated(path, read(path), {"token": token, "chat_id": str(chat_id)}), mode=0o600)
    except OSError as exc:
        raise write_error(exc, path, "nothing was changed") from exc
    return path
