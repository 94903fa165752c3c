"""The report's period from what the user typed (`--since`, `--until`): pure, with the clock passed in.

A word (`today`, `yesterday`, `Nd`) or an ISO date names a whole local day: `--since` takes its
start, `--until` its end, so `--since 2026-11-20 --until 2026-11-20` is that one day. A date-time is
an instant (local time unless it carries an offset). The period never reaches past now.
`tz=None` means the system's local time zone (with its DST rules); tests pass a ZoneInfo.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from ..common.errors import UserError

WHEN_HELP = (
    "an ISO date (2026-11-20), a date-time (2026-11-20T08:00, local time unless it has an offset "
    "such as +01:00), today, yesterday, or Nd (the last N days, today included: 7d)"
)
_DAYS = re.compile(r"(\d+)\s*d")


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime


def localize(naive: datetime, tz: tzinfo | None) -> datetime:
    """The aware local datetime for a wall-clock time (system zone when tz is None)."""
    return naive.replace(tzinfo=tz) if tz is not None else naive.astimezone()


def local_midnight(day: date, tz: tzinfo | None) -> datetime:
    return localize(datetime(day.year, day.month, day.day), tz)


def _named_day(word: str, today: date) -> date | None:
    if word == "today":
        return today
    if word == "yesterday":
        return today - timedelta(days=1)
    days = _DAYS.fullmatch(word)
    if days and int(days.group(1)) >= 1:
        return today - timedelta(days=int(days.group(1)) - 1)
    try:
        return date.fromisoformat(word)
    except ValueError:
        return None


def parse_when(option: str, text: str, now: datetime, tz: tzinfo | None, end: bool) -> datetime:
    """One WHEN as an aware instant: a named day's start (or its end when `end`), or the date-time."""
    word = text.strip().lower()
    try:
        day = _named_day(word, now.astimezone(tz).date())
        if day is not None:
            return local_midnight(day + timedelta(days=1) if end else day, tz)
        instant = datetime.fromisoformat(word.upper())
        return instant if instant.tzinfo is not None else localize(instant, tz)
    except (ValueError, OverflowError):
        raise UserError(f"{option} {text!r}: expected {WHEN_HELP}") from None


def resolve_period(since: str | None, until: str | None, now: datetime, tz: tzinfo | None = None) -> Period:
    """The period the flags name; by default today from local midnight to `now` (aware)."""
    start = parse_when("--since", since or "today", now, tz, end=False)
    stop = min(parse_when("--until", until, now, tz, end=True), now) if until else now
    if start >= stop:
        raise UserError(
            f"--since ({_show(start)}) must come before --until ({_show(stop)}; a report never reaches past now)"
        )
    return Period(start.astimezone(tz), stop.astimezone(tz))


def day_edges(period: Period, tz: tzinfo | None) -> list[tuple[str, float, float]]:
    """The local calendar days the period touches, each cut to the period: (YYYY-MM-DD, start, end)
    as epoch seconds, in order."""
    days = []
    day = period.since.astimezone(tz).date()
    start = period.since
    while start < period.until:
        stop = min(local_midnight(day + timedelta(days=1), tz), period.until)
        days.append((day.isoformat(), start.timestamp(), stop.timestamp()))
        day, start = day + timedelta(days=1), stop
    return days


def _show(instant: datetime) -> str:
    return instant.isoformat(sep=" ", timespec="seconds")
