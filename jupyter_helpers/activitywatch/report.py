"""Active time per project from ActivityWatch's raw events (pure: events in, seconds out).

What counts: window-watcher (`currentwindow`) time inside the period, intersected with the AFK
watcher's `not-afk` spans. Each title is matched with the rules `activitywatch export` writes, and
when several rules match, the one ActivityWatch would pick (the last in export order) wins, so this
report agrees with the categories a user imported. Overlapping window events (two watchers, or a
watcher's own overlap) count once: an instant belongs to the earliest event covering it.
Times are epoch seconds (floats) throughout; sorting once and walking both lists together keeps a
year of events (~10^5) in one pass.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from ..common.errors import UserError
from .periods import Period
from .rules import categories

WINDOW_TYPE = "currentwindow"
AFK_TYPE = "afkstatus"

Span = tuple[float, float]
Piece = tuple[float, float, str]  # start, end, window title


def event_span(event: dict) -> Span:
    start = datetime.fromisoformat(event["timestamp"]).timestamp()
    return start, start + float(event["duration"])


def active_spans(afk_events: Iterable[dict]) -> list[Span]:
    """The `not-afk` spans of any number of AFK buckets, merged into sorted disjoint spans."""
    spans = sorted(event_span(event) for event in afk_events if event["data"].get("status") == "not-afk")
    merged: list[list[float]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        elif end > start:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def counted_pieces(window_events: Iterable[dict], active: list[Span] | None, period: Period) -> Iterator[Piece]:
    """Window time inside the period and inside an active span, in time order, each instant once.
    `active=None` (no AFK watcher on the host) counts all window time."""
    windows = sorted((*event_span(event), str(event["data"].get("title", ""))) for event in window_events)
    spans = None if active is None else [*active, (math.inf, math.inf)]  # the sentinel ends both scans
    cursor, until = period.since.timestamp(), period.until.timestamp()
    first = 0
    for start, end, title in windows:
        start = cursor if start < cursor else start
        end = until if end > until else end
        if end <= start:
            continue
        cursor = end
        if spans is None:
            yield start, end, title
            continue
        while spans[first][1] <= start:
            first += 1
        index = first
        while spans[index][0] < end:  # every span scanned here overlaps (start, end)
            span_start, span_end = spans[index]
            yield (start if start > span_start else span_start), (end if end < span_end else span_end), title
            index += 1


def project_matcher(names: list[str]) -> Callable[[str], str | None]:
    """title -> project (or None), with the export's regexes; remembers titles, which repeat a lot."""
    rules = [(category["name"][-1], re.compile(category["rule"]["regex"], re.IGNORECASE))
             for category in categories(names, []) if category["rule"]["type"] == "regex"]
    rules.reverse()  # ActivityWatch keeps the last of equally deep matches
    seen: dict[str, str | None] = {}

    def match(title: str) -> str | None:
        if title not in seen:
            seen[title] = next((name for name, rule in rules if rule.search(title)), None)
        return seen[title]

    return match


@dataclass
class Tally:
    """Seconds per project and of all counted (active) time, overall and per day when asked."""

    projects: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    active: float = 0.0
    days: dict[str, dict[str, float]] | None = None
    days_active: dict[str, float] | None = None


def tally(pieces: Iterable[Piece], match: Callable[[str], str | None],
          days: list[tuple[str, float, float]] | None = None) -> Tally:
    """Sums the pieces (in time order); with `days` (from periods.day_edges) also per local day."""
    result = Tally()
    if days is not None:
        result.days = {name: defaultdict(float) for name, _, _ in days}
        result.days_active = {name: 0.0 for name, _, _ in days}
    day = 0
    for start, end, title in pieces:
        project = match(title)
        result.active += end - start
        if project is not None:
            result.projects[project] += end - start
        while days is not None and start < end:
            while days[day][2] <= start:
                day += 1
            name, cut = days[day][0], min(end, days[day][2])
            result.days_active[name] += cut - start
            if project is not None:
                result.days[name][project] += cut - start
            start = cut
    return result


def select_buckets(buckets: dict[str, dict], host: str) -> tuple[list[str], list[str]]:
    """The host's window and AFK bucket ids; an unknown host's error lists the hosts that have
    window data."""
    def of_type(kind: str) -> list[str]:
        return sorted(bid for bid, bucket in buckets.items()
                      if bucket.get("type") == kind and bucket.get("hostname") == host)

    window = of_type(WINDOW_TYPE)
    if not window:
        hosts = sorted({str(bucket.get("hostname")) for bucket in buckets.values()
                        if bucket.get("type") == WINDOW_TYPE})
        known = ", ".join(hosts) if hosts else "none (is aw-watcher-window running?)"
        raise UserError(f"ActivityWatch has no window-watcher data for host {host!r}; "
                        f"hosts with window data: {known} (pick one with --host NAME)")
    return window, of_type(AFK_TYPE)


@dataclass(frozen=True)
class Report:
    host: str
    period: Period
    tally: Tally

    def ranked(self) -> list[tuple[str, float]]:
        """Projects with time, most first (ties by name)."""
        return sorted(((name, seconds) for name, seconds in self.tally.projects.items() if seconds > 0),
                      key=lambda item: (-item[1], item[0]))

    @property
    def matched(self) -> float:
        return sum(self.tally.projects.values())


def _seconds(value: float) -> float:
    return round(value, 3)


def to_json(report: Report) -> dict:
    """The `--json` document: seconds as numbers, projects most first; `days` only when per day."""
    ranked = report.ranked()
    doc: dict = {"since": report.period.since.isoformat(), "until": report.period.until.isoformat(),
                 "host": report.host, "projects": {name: _seconds(seconds) for name, seconds in ranked},
                 "active": _seconds(report.tally.active)}
    if report.tally.days is not None:
        doc["days"] = {day: {name: _seconds(projects[name]) for name, _ in ranked if projects.get(name, 0) > 0}
                       for day, projects in report.tally.days.items()}
    return doc


def build_report(buckets: dict[str, dict], fetch: Callable[[str], list[dict]], host: str, period: Period,
                 names: list[str], days: list[tuple[str, float, float]] | None = None) -> tuple[Report, list[str]]:
    """Fetches each of the host's buckets once (`fetch(bucket_id)`) and tallies; returns the report
    and notes for the user (e.g. that the host has no AFK watcher, so all window time counted)."""
    window_ids, afk_ids = select_buckets(buckets, host)
    notes = [] if afk_ids else [f"note: host {host!r} has no AFK-watcher (afkstatus) data; "
                                "all window time counts as active"]
    window_events = [event for bucket in window_ids for event in fetch(bucket)]
    try:
        active = active_spans(event for bucket in afk_ids for event in fetch(bucket)) if afk_ids else None
        counted = tally(counted_pieces(window_events, active, period), project_matcher(names), days)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UserError(f"ActivityWatch sent an event this report cannot read ({type(exc).__name__}: {exc})") from None
    return Report(host, period, counted), notes
