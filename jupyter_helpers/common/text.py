"""Text every message passes through, whoever sends it: pure functions, standard library only.

A phone must show what a cell, a file name or a command line said, not what terminal escapes,
bidi overrides or invisible characters make it look like; and Telegram counts its limits in
UTF-16 code units, so cutting does too.
"""

from __future__ import annotations

import re

TELEGRAM_LIMIT = 4096  # UTF-16 code units, as Telegram counts them
TITLE_LIMIT = 256  # titles (ntfy backends such as Pushover show them; Telegram ignores them)
PHOTO_LIMIT = 10_000_000  # Telegram: photos up to 10 MB
TOKEN_SHAPE = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")  # a bot token, as @BotFather gives them

# Sequences removed whole, payload included: CSI (7- and 8-bit), then OSC/DCS/SOS/PM/APC strings
# up to their terminator (BEL, ESC \ or ST) or the end of the text, then any other ESC pair.
_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x9c\x1b]*(?:\x07|\x9c|\x1b\\|\x1b|$)"
    r"|\x1b[ -~]?"
)
# C0 (except tab and newline), DEL, C1, bidi embeddings/overrides/isolates/marks, zero-width
# characters and the BOM. Surrogates (undecodable bytes in a file name) become U+FFFD.
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_BREAKS = re.compile("[\t\n\v\f\r\u2028\u2029]")


def human_duration(seconds: float) -> str:
    """`4.2 s`, `2 min 05 s`, `1 h 02 min 03 s`: readable at a glance on a lock screen."""
    seconds += 0.0  # -0.0 (`-a -0`) becomes 0.0
    if seconds < 60:
        return f"{seconds:.1f} s"
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    return f"{minutes} min {secs:02d} s"


def headline(notebook: str | None, project: str | None, what: str) -> str:
    """`analysis.ipynb (Project Alpha): what`: the first line of every message about a notebook,
    from a kernel or from the server (either part may be unknown)."""
    where = notebook or ""
    if project:
        where = f"{where} ({project})" if where else project
    return sanitize(f"{where}: {what}" if where else what)


def quoted(label: str, text: str) -> str:
    """`Label: text` for one line; for several, the label alone and every line of `text` behind
    `│ `, so that no line of an excerpt (an error, a result, a prompt) can pass for one of the
    message's own lines such as `Host: ...`."""
    lines = text.splitlines()  # every kind of line break, U+2028 included
    if len(lines) <= 1:
        return f"{label}: {text}"
    return "\n".join([f"{label}:"] + [f"│ {line}" for line in lines])


def sanitize(text: str) -> str:
    """Removes terminal escape sequences whole, control, bidi and zero-width characters, and
    replaces lone surrogates so the text always encodes as UTF-8."""
    text = _SEQUENCES.sub("", text)
    text = _INVISIBLE.sub("", text)
    return _SURROGATE.sub("\ufffd", text)


def utf16_length(text: str) -> int:
    return len(text) + sum(1 for char in text if char > "\uffff")


def cut(text: str, limit: int) -> str:
    """At most `limit` UTF-16 code units (an emoji counts twice), ending in `…` when cut; never
    splits a character."""
    if utf16_length(text) <= limit:
        return text
    budget = limit - 1
    kept = 0
    for index, char in enumerate(text):
        kept += 2 if char > "\uffff" else 1
        if kept > budget:
            return text[:index] + "…"
    return text


def clean(text: str, limit: int) -> str:
    """`sanitize`, trim, `cut`: what every piece of text from a cell or from disk goes through."""
    return cut(sanitize(text).strip(), limit)


def clean_name(text: str, limit: int = 255) -> str:
    """`clean` for a file or project name: its line breaks and tabs become spaces, so a name
    cannot start a line of its own that reads like the message's `Host:` or status line."""
    return clean(_BREAKS.sub(" ", text), limit)


def with_note(text: str, note: str, limit: int = TELEGRAM_LIMIT) -> str:
    """`text` with `note` as its last line, the text cut so that the note always fits in `limit`."""
    note = cut(note, limit // 2)
    return cut(text, limit - utf16_length(note) - 1) + "\n" + note


def left_out_note(size: int) -> str:
    """The line a message carries instead of a picture over Telegram's photo limit."""
    return f"(picture left out: {size / 1e6:.1f} MB is over Telegram's 10 MB photo limit)"
