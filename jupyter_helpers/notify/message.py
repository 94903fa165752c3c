"""What a notification says: pure functions from a finished run of cells to text a phone can show.

The first line carries what a lock screen shows (outcome, notebook, project, cells, time); the
rest adds the longest cell, the user's note, the result excerpt or the error, and the host.
Everything that came from the cell or from disk passes through `sanitize` first: a phone must show
what the cell said, not text that terminal escapes, bidi overrides or invisible characters spoof.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

TELEGRAM_LIMIT = 4096  # UTF-16 code units, as Telegram counts them

# Sequences removed whole, payload included: CSI (7- and 8-bit), then OSC/DCS/SOS/PM/APC strings
# up to their terminator (BEL, ESC \ or ST) or the end of the text, then any other ESC pair.
_SEQUENCES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x9c\x1b]*(?:\x07|\x9c|\x1b\\|\x1b|$)"
    r"|\x1b[ -~]?"
)
# C0 (except tab and newline), DEL, C1, bidi embeddings/overrides/isolates/marks, zero-width
# characters and the BOM. Surrogates (undecodable bytes in a file name) become U+FFFD.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")
_BREAKS = re.compile("[\t\n\v\f\r\u2028\u2029]")


@dataclass(frozen=True)
class RunRecord:
    """Everything about a finished run of cells that its notification needs."""

    notebook: str | None  # file name as the user knows it; None when it cannot be known
    first_cell: int | None
    last_cell: int | None
    seconds: float  # wall time, first start to last end
    host: str
    cells: int = 1
    longest_cell: int | None = None
    longest_seconds: float = 0.0
    project: str | None = None
    excerpt: str | None = None  # text/plain of the run's last result, as the display hook rendered it
    error: str | None = None  # `ValueError: boom` when the run ended in an error
    note: str = ""  # the user's %autonotify -m text
    image_note: str = ""  # why a picture the run displayed is not attached


def human_duration(seconds: float) -> str:
    """`4.2 s`, `2 min 05 s`, `1 h 02 min 03 s`: readable at a glance on a lock screen."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min {secs:02d} s"
    return f"{minutes} min {secs:02d} s"


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


def describe_error(error: BaseException, limit: int) -> str:
    try:
        detail = str(error)
    except Exception:
        detail = ""
    return clean(f"{type(error).__name__}: {detail}" if detail else type(error).__name__, limit)


def cells_label(first: int | None, last: int | None) -> str:
    if first is None or last is None:
        return "cells" if first != last else "cell"
    return f"cell [{last}]" if first == last else f"cells [{first}]–[{last}]"


def title(record: RunRecord) -> str:
    """The first line without its mark: `analysis.ipynb (Project Alpha): cells [2]–[5] finished after 4.2 s`."""
    where = record.notebook or ""
    if record.project:
        where = f"{where} ({record.project})" if where else record.project
    outcome = "failed" if record.error is not None else "finished"
    what = f"{cells_label(record.first_cell, record.last_cell)} {outcome} after {human_duration(record.seconds)}"
    return sanitize(f"{where}: {what}" if where else what[0].upper() + what[1:])


def compose(record: RunRecord) -> str:
    """The full text: status line first, because Telegram (ntfy's default) ignores titles."""
    lines = [("❌ " if record.error is not None else "✅ ") + title(record)]
    if record.cells > 1 and record.longest_cell is not None and record.first_cell != record.last_cell:
        lines.append(f"Longest: cell [{record.longest_cell}], {human_duration(record.longest_seconds)}")
    if record.note:
        lines.append(record.note)
    if record.error is not None:
        where = f" in cell [{record.last_cell}]" if record.last_cell is not None else ""
        lines.append(f"Error{where}: {record.error}")
    elif record.excerpt:
        lines.append(f"Result: {record.excerpt}")
    if record.image_note:
        lines.append(record.image_note)
    lines.append(f"Host: {record.host}")
    return clean("\n".join(lines), TELEGRAM_LIMIT)


def compose_note(text: str, notebook: str | None, project: str | None, host: str) -> tuple[str, str]:
    """`%notify TEXT`: (message, title), with the same notebook and project as run messages."""
    where = notebook or ""
    if project:
        where = f"{where} ({project})" if where else project
    head = sanitize(f"{where}: {text}" if where else text)
    return clean(f"🔔 {head}\nHost: {host}", TELEGRAM_LIMIT), clean(head, 256)
