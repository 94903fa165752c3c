"""What a notification says: pure functions from a finished run of cells to text a phone can show.

The first line carries what a lock screen shows (outcome, notebook, project, cells, time); the
rest adds the longest cell, the user's note, the result excerpt or the error, and the host.
Everything that came from the cell or from disk passes through common/text.py's `sanitize`/`clean`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..common.memory import Reading, amount, percent, size
from ..common.text import TELEGRAM_LIMIT, clean, headline, human_duration, quoted, with_note

RATE_AFTER = 0.05  # seconds: a growth measured over less time says nothing about a rate


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
    error: str | None = None  # `ValueError: boom` when the run's last cell failed
    failed_cell: int | None = None  # the first cell of the run that failed, when an earlier one did
    failed_error: str | None = None  # ... and its error
    failures: int = 0  # how many cells of the run failed
    stopped: str | None = None  # `by SIGTERM`: the kernel was ended while the run's last cell ran
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


def _mark(record: RunRecord) -> str:
    if record.error is not None:
        return "❌"
    if record.stopped is not None:
        return "🛑"
    return "⚠" if record.failures else "✅"


def _earlier_failures(record: RunRecord) -> str:
    """`, but cell [2] failed` / `, but 3 cells failed, the first [2]`, for a run that went on."""
    if record.error is not None or not record.failures or record.failed_cell is None:
        return ""
    if record.failures == 1:
        return f", but cell [{record.failed_cell}] failed"
    return f", but {record.failures} cells failed, the first [{record.failed_cell}]"


def title(record: RunRecord) -> str:
    """The first line without its mark: `analysis.ipynb (Project Alpha): cells [2]–[5] finished after 4.2 s`."""
    if record.error is not None:
        outcome = "failed"
    elif record.stopped is not None:
        outcome = f"stopped {record.stopped}"
    else:
        outcome = "finished"
    what = (
        f"{cells_label(record.first_cell, record.last_cell)} {outcome} after "
        f"{human_duration(record.seconds)}{_earlier_failures(record)}"
    )
    if not (record.notebook or record.project):
        what = what[0].upper() + what[1:]  # the line starts with it
    return headline(record.notebook, record.project, what)


def compose(record: RunRecord) -> str:
    """The full text: status line first, because Telegram (ntfy's default) ignores titles.
    Excerpts of several lines are quoted (common/text.py `quoted`)."""
    lines = [f"{_mark(record)} {title(record)}"]
    if record.cells > 1 and record.longest_cell is not None and record.first_cell != record.last_cell:
        lines.append(f"Longest: cell [{record.longest_cell}], {human_duration(record.longest_seconds)}")
    if record.note:
        lines.append(record.note)
    if record.stopped is not None and record.last_cell is not None:
        lines.append(f"Stopped in cell [{record.last_cell}]")
    if record.error is not None:
        where = f" in cell [{record.last_cell}]" if record.last_cell is not None else ""
        lines.append(quoted(f"Error{where}", record.error))
    elif record.failed_error is not None:
        lines.append(quoted(f"Error in cell [{record.failed_cell}]", record.failed_error))
    elif record.excerpt and record.stopped is None:
        lines.append(quoted("Result", record.excerpt))
    lines.append(f"Host: {record.host}")
    text = clean("\n".join(lines), TELEGRAM_LIMIT)
    return with_note(text, record.left_out) if record.left_out else text


def compose_note(text: str, notebook: str | None, project: str | None, host: str) -> tuple[str, str]:
    """`%notify TEXT`: (message, title), with the same notebook and project as run messages."""
    head = headline(notebook, project, text)
    return clean(f"🔔 {head}\nHost: {host}", TELEGRAM_LIMIT), clean(head, 256)


def compose_wait(
    prompt: str, cell: int | None, notebook: str | None, project: str | None, host: str, limit: int
) -> tuple[str, str]:
    """A cell waiting for input(): (message, title), quoting the prompt (never the answer):
    `⌨ ask.ipynb (Project Alpha): cell [4] waits for input: "Continue training? [y/n]"`."""
    head = headline(notebook, project, f"{cells_label(cell, cell)} waits for input")
    shown = clean(prompt, limit)
    if len(shown.splitlines()) > 1:
        first = quoted(head, shown)
    else:
        first = f'{head}: "{shown}"' if shown else head
    return clean(f"⌨ {first}\nHost: {host}", TELEGRAM_LIMIT), clean(head, 256)


@dataclass(frozen=True)
class MemoryRecord:
    """A run's memory use past `memory_warn` (or `memory_interrupt`), for its 🧠 message."""

    notebook: str | None
    project: str | None
    cell: int | None
    used: int  # bytes, as the OOM killer counts them (common/memory.py)
    limit: int
    grew: int  # bytes since the run's first look
    seconds: float  # ... taken over this long
    warn: float
    interrupt: float  # 0: off
    interrupted: bool
    host: str


def compose_memory(record: MemoryRecord) -> tuple[str, str]:
    """(message, title): `🧠 train.ipynb (Project Alpha): cell [7] at 91% memory, 6.4 GB of 7.1 GB`,
    how fast it grew, what happens next and the setting that changes it."""
    reading = Reading(record.used, record.limit)
    cell = cells_label(record.cell, record.cell)
    if record.interrupted:
        what = f"{cell} interrupted at {percent(reading)} memory, {amount(reading)}; its variables are kept"
    else:
        what = f"{cell} at {percent(reading)} memory, {amount(reading)}"
    lines = [f"🧠 {headline(record.notebook, record.project, what)}"]
    if record.seconds >= RATE_AFTER and record.grew > 0:
        rate = size(record.grew / record.seconds)
        lines.append(f"Grew {size(record.grew)} in {human_duration(record.seconds)} ({rate}/s).")
    elif record.seconds >= RATE_AFTER:
        lines.append(f"Steady for {human_duration(record.seconds)}.")
    if record.interrupted:
        lines.append(
            "The OOM killer would have ended the kernel at 100%. Change the level with "
            "`%autonotify --memory-interrupt F` (0 turns it off) or c.AutoNotify.memory_interrupt."
        )
    elif record.interrupt:
        lines.append(
            f"At {record.interrupt:.0%} the cell is interrupted (c.AutoNotify.memory_interrupt), "
            "so the kernel keeps its variables."
        )
    else:
        suggested = 0.95 if record.warn < 0.95 else 0.99
        lines.append(
            "At 100% the OOM killer ends the kernel and its variables are lost; "
            f"`%autonotify --memory-interrupt {suggested:g}` (c.AutoNotify.memory_interrupt) interrupts the cell first."
        )
    lines.append(f"Host: {record.host}")
    head = headline(record.notebook, record.project, what)
    return clean("\n".join(lines), TELEGRAM_LIMIT), clean(head, 256)


def compose_live(
    notebook: str | None,
    project: str | None,
    cell: int | None,
    done: int,
    seconds: float,
    progress: str | None,
    host: str,
) -> str:
    """A run's live message while it goes on, e.g.
    `⏳ train.ipynb (Project Alpha): cell [3] running, 2 cells done, 6 min 10 s` then the
    progress bar's line (or the last line the cell printed) and the host. Whole seconds: the
    text changes (and the message is edited) at most once per look."""
    running = f"{cells_label(cell, cell)} running" if cell is not None else "running"
    head = headline(
        notebook, project, f"{running}, {done} cell{'' if done == 1 else 's'} done, {human_duration(round(seconds))}"
    )
    lines = [f"⏳ {head}"]
    if progress:
        lines.append(progress)
    lines.append(f"Host: {host}")
    return clean("\n".join(lines), TELEGRAM_LIMIT)


def live_end(record: RunRecord) -> str:
    """The live message's last text once its run is over: the final message's first line (the
    final message itself went out just before, as a new message)."""
    return f"{_mark(record)} {title(record)}"


def live_orphaned(notebook: str | None, project: str | None) -> str:
    """The live message's text when its kernel ended (killed, or shut down) while the silent send
    that made it was in flight: the delivery child edits it to this once Telegram answers, as
    nobody else will ever know its id. `⏹ train.ipynb (Project Alpha): the kernel ended during this run`."""
    return "⏹ " + headline(notebook, project, "the kernel ended during this run")


def live_off(notebook: str | None, project: str | None, seconds: float) -> str:
    """The live message's last text when `%autonotify --off` was run during its run, which then
    gets no final message: `🔕 train.ipynb (Project Alpha): notifications turned off after 6 min 10 s
    of this run` (whole seconds, as the live message counted them)."""
    what = f"notifications turned off after {human_duration(round(seconds))} of this run"
    return "🔕 " + headline(notebook, project, what)
