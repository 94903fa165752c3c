"""What a notification says: pure functions from a finished run of cells to text a phone can show.

The first line carries what a lock screen shows (outcome, notebook, project, cells, time); the
rest adds the longest cell, the user's note, the result excerpt or the error, and the host.
Everything that came from the cell or from disk passes through common/text.py's `sanitize`/`clean`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..common.text import TELEGRAM_LIMIT, clean, human_duration, sanitize, with_note


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
    left_out: str | None = None  # why the run's picture is not attached (too big to send)


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
    lines.append(f"Host: {record.host}")
    text = clean("\n".join(lines), TELEGRAM_LIMIT)
    return with_note(text, record.left_out) if record.left_out else text


def compose_note(text: str, notebook: str | None, project: str | None, host: str) -> tuple[str, str]:
    """`%notify TEXT`: (message, title), with the same notebook and project as run messages."""
    where = notebook or ""
    if project:
        where = f"{where} ({project})" if where else project
    head = sanitize(f"{where}: {text}" if where else text)
    return clean(f"🔔 {head}\nHost: {host}", TELEGRAM_LIMIT), clean(head, 256)
