"""The progress bar of a run in progress, for its live message: tqdm's, read from another thread.

Every tqdm bar (`tqdm`, `tqdm.auto`, `tqdm.notebook`: subclasses of `tqdm.std.tqdm`) is in the
class's WeakSet `_instances` while it is open; `format_dict` gives its count, total, rate and
elapsed time. With nested bars the outermost is shown (position 0; the earliest started among
equals): the one that says how far the whole run is. tqdm is never imported here: a kernel that
has not imported it has no bar.
"""

from __future__ import annotations

import sys
from typing import Any

from ..common.text import clean, human_duration


def bar_line(limit: int = 200) -> str | None:
    """`epochs: 42% 420/1000 it, 3.10 it/s, 3 min 07 s left`, or None without an open bar."""
    std = sys.modules.get("tqdm.std")
    if std is None:
        return None
    try:
        bars = [bar for bar in list(std.tqdm._instances) if not getattr(bar, "disable", False)]
        if not bars:
            return None
        bar = min(bars, key=lambda bar: (abs(getattr(bar, "pos", 0) or 0), getattr(bar, "start_t", 0) or 0))
        return clean(describe(bar.format_dict), limit) or None
    except Exception:  # a bar closing on its own thread, an odd subclass: no line this time
        return None


def describe(info: dict[str, Any]) -> str:
    """One line from a bar's `format_dict` (pure)."""
    n, total, unit = info.get("n") or 0, info.get("total"), info.get("unit") or "it"
    elapsed = info.get("elapsed") or 0.0
    rate = info.get("rate")
    if rate is None and elapsed > 0:
        rate = n / elapsed
    parts = []
    if total:
        parts.append(f"{100 * n / total:.0f}% {n:g}/{total:g} {unit}")
    else:
        parts.append(f"{n:g} {unit}")
    if rate:
        parts.append(f"{rate:.3g} {unit}/s" if rate >= 1 else f"{1 / rate:.3g} s/{unit}")
        if total and total > n:
            parts.append(f"{human_duration(round((total - n) / rate))} left")
    desc = str(info.get("prefix") or "").strip().rstrip(":")
    line = ", ".join(parts)
    return f"{desc}: {line}" if desc else line
