"""What a notification says: pure functions from a finished cell to text a phone can show."""

from __future__ import annotations

import re
import reprlib
from dataclasses import dataclass

TELEGRAM_LIMIT = 4096
_CONTROL = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class CellRecord:
    """Everything about a finished cell that a notification needs, captured on the kernel thread."""

    notebook: str | None
    cell_number: int | None
    seconds: float
    host: str
    excerpt: str | None = None
    error: str | None = None
    note: str = ""


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


def clean(text: str, limit: int) -> str:
    """Strips terminal escapes and control characters, then cuts to `limit` characters."""
    text = _CONTROL.sub("", text).strip()
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 400
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 10
_REPR.maxlevel = 3


def safe_excerpt(value: object, limit: int) -> str:
    """A short repr that takes no time on a huge container; reprlib turns a failing __repr__
    into `<Type instance at 0x...>` instead of raising."""
    return clean(_REPR.repr(value), limit)


def describe_error(error: BaseException, limit: int) -> str:
    try:
        detail = str(error)
    except Exception:
        detail = ""
    return clean(f"{type(error).__name__}: {detail}" if detail else type(error).__name__, limit)


def title(record: CellRecord) -> str:
    where = record.notebook or "IPython"
    cell = f"cell [{record.cell_number}]" if record.cell_number is not None else "cell"
    outcome = "failed" if record.error else "finished"
    return f"{where}: {cell} {outcome} after {human_duration(record.seconds)}"


def compose(record: CellRecord) -> str:
    """The full text: status line first, because Telegram (ntfy's default) ignores titles."""
    lines = [("❌ " if record.error else "✅ ") + title(record)]
    if record.note:
        lines.append(record.note)
    if record.error:
        lines.append(f"Error: {record.error}")
    elif record.excerpt is not None:
        lines.append(f"Result: {record.excerpt}")
    lines.append(f"Host: {record.host}")
    return clean("\n".join(lines), TELEGRAM_LIMIT)
