"""Active time per project (or file) from ActivityWatch's raw events: events in, seconds out.

Two sources, the better one that has data for the period:
- **Jupyter's own bucket** (`aw-watcher-jupyter_<host>`, common/editor_bucket.py), written by the
  server extension only while a page showing the document is visible, focused and in use. Its
  events name the project and file exactly, so no rule is involved, and they already mean active
  time: the report does not intersect them with the AFK watcher (aw-webui's Editor view sums them
  the same way), so it also works where no window or AFK watcher runs (Wayland).
- **Window titles** (`currentwindow` buckets), intersected with the AFK watcher's `not-afk` spans.
  Each title is matched with the rules `activitywatch export` writes, and when several match, the
  one ActivityWatch would pick (the last in export order) wins, so the report agrees with the
  categories a user imported.
Overlapping events (two watchers, or a watcher's own overlap) count once: an instant belongs to the
earliest event covering it. Events arrive one slice of the period at a time (a week, or less where
a week holds more than a page: client.py), so memory stays bounded by a slice, not the period.
Times are epoch seconds (floats) throughout.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from ..common.editor_bucket import BUCKET_PREFIX, BUCKET_TYPE, bucket_id
from ..common.errors import UserError
from .periods import Period
from .rules import categories

DAYS_PER_SLICE = 7  # a week a request: few requests, and a week of one watcher fits a page (client.PAGE)
WINDOW_TYPE = "currentwindow"
AFK_TYPE = "afkstatus"

Span = tuple[float, float]
Piece = tuple[float, float, str]  # start, end, label (window title, project or file)
Day = tuple[str, float, float]  # YYYY-MM-DD, start, end (periods.day_edges)


class Events(Protocol):
    """Where events come from: client.ActivityWatchServer, or memory in the benchmark."""

    def has_events(self, bucket_id: str, span: Span) -> bool: ...

    def slices(self, bucket_ids: list[str], edges: list[Span]) -> Iterable[tuple[Span, dict[str, list[dict]]]]: ...


def event_span(event: dict) -> Span:
    start, duration = datetime.fromisoformat(event["timestamp"]).timestamp(), float(event["duration"])
    if not math.isfinite(duration):  # JSON may say NaN or 1e999; no sum survives either
        raise ValueError(f"duration {duration}")
    return start, start + duration


def labelled(events: Iterable[dict], key: str) -> list[Piece]:
    return [(*event_span(event), str(event["data"].get(key, ""))) for event in events]


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


def counted_pieces(pieces: Iterable[Piece], active: list[Span] | None, span: Span) -> Iterator[Piece]:
    """Time inside the span and inside an active span, in time order, each instant once.
    `active=None` (no AFK filter) counts all of it."""
    spans = None if active is None else [*active, (math.inf, math.inf)]  # the sentinel ends both scans
    cursor, until = span
    first = 0
    for start, end, label in sorted(pieces):
        start = cursor if start < cursor else start
        end = until if end > until else end
        if end <= start:
            continue
        cursor = end
        if spans is None:
            yield start, end, label
            continue
        while spans[first][1] <= start:
            first += 1
        index = first
        while spans[index][0] < end:  # every span scanned here overlaps (start, end)
            span_start, span_end = spans[index]
            yield (start if start > span_start else span_start), (end if end < span_end else span_end), label
            index += 1


def project_matcher(names: list[str]) -> Callable[[str], str | None]:
    """title -> project (or None), with the export's regexes; remembers titles, which repeat a lot."""
    rules = [
        (category["name"][-1], re.compile(category["rule"]["regex"], re.IGNORECASE))
        for category in categories(names, [])
        if category["rule"]["type"] == "regex"
    ]
    rules.reverse()  # ActivityWatch keeps the last of equally deep matches
    seen: dict[str, str | None] = {}

    def match(title: str) -> str | None:
        if title not in seen:
            seen[title] = next((name for name, rule in rules if rule.search(title)), None)
        return seen[title]

    return match


def exact(label: str) -> str | None:
    """The editor bucket's labels are the names themselves (an empty one names nothing)."""
    return label or None


@dataclass
class Tally:
    """Seconds per row (project or file) and of all counted (active) time, overall and per day
    when asked."""

    rows: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    active: float = 0.0
    days: dict[str, dict[str, float]] | None = None
    days_active: dict[str, float] | None = None

    def add(self, pieces: Iterable[Piece], match: Callable[[str], str | None], days: list[Day] | None = None) -> None:
        """Sums the pieces (in time order); with `days` (periods.day_edges) also per local day."""
        if days is not None and self.days is None:
            self.days = {name: defaultdict(float) for name, _, _ in days}
            self.days_active = {name: 0.0 for name, _, _ in days}
        per_day, per_day_active = self.days or {}, self.days_active or {}
        day = 0
        for start, end, label in pieces:
            row = match(label)
            self.active += end - start
            if row is not None:
                self.rows[row] += end - start
            while days is not None and start < end:
                while days[day][2] <= start:
                    day += 1
                name, cut = days[day][0], min(end, days[day][2])
                per_day_active[name] += cut - start
                if row is not None:
                    per_day[name][row] += cut - start
                start = cut


class Kind(StrEnum):
    EDITOR = "jupyter"
    TITLES = "window-titles"


@dataclass(frozen=True)
class Source:
    kind: Kind
    buckets: list[str]  # where the time comes from
    afk: list[str] = field(default_factory=list)  # window titles only; empty: no AFK watcher

    def describe(self) -> str:
        if self.kind is Kind.EDITOR:
            return f"from Jupyter ({self.buckets[0]}): time with the document's page in focus and in use"
        afk = f"while {', '.join(self.afk)} says not-afk" if self.afk else "all of it (no AFK watcher)"
        return f"from window titles ({', '.join(self.buckets)}) with the project rules, {afk}"


def choose_source(
    buckets: dict[str, dict], host: str, has_events: Callable[[str], bool], by_file: bool, names: list[str]
) -> Source:
    """Jupyter's bucket for the host when it has data for the period (or is all there is, or files
    are asked for), else the host's window and AFK buckets."""

    def of_type(kind: str) -> list[str]:
        return sorted(
            bid for bid, bucket in buckets.items() if bucket.get("type") == kind and bucket.get("hostname") == host
        )

    editor = bucket_id(host)
    window = of_type(WINDOW_TYPE)
    if buckets.get(editor, {}).get("type") == BUCKET_TYPE and (by_file or not window or has_events(editor)):
        return Source(Kind.EDITOR, [editor])
    if not window:
        hosts = sorted(
            {
                str(bucket.get("hostname"))
                for bid, bucket in buckets.items()
                if bucket.get("type") == WINDOW_TYPE
                or (bucket.get("type") == BUCKET_TYPE and bid.startswith(BUCKET_PREFIX))
            }
        )
        known = ", ".join(hosts) if hosts else "none (is Jupyter's server extension or aw-watcher-window running?)"
        raise UserError(
            f"ActivityWatch has no data for host {host!r} (no {editor}, no window watcher); "
            f"hosts with data: {known} (pick one with --host NAME)"
        )
    if by_file:
        raise UserError(
            f"--by file needs Jupyter's own bucket {editor}, which ActivityWatch does not have: "
            "turn on the server extension's heartbeats, or report per project"
        )
    if not names:
        raise UserError(
            "no projects mapped, so window titles name no project: "
            "add one with `jupyter-helpers projects add FOLDER NAME`"
        )
    return Source(Kind.TITLES, window, of_type(AFK_TYPE))


@dataclass(frozen=True)
class Report:
    host: str
    period: Period
    tally: Tally
    source: Source
    rows: str = "project"  # or "file"

    def ranked(self) -> list[tuple[str, float]]:
        """Rows with time, most first (ties by name)."""
        return sorted(
            ((name, seconds) for name, seconds in self.tally.rows.items() if seconds > 0),
            key=lambda item: (-item[1], item[0]),
        )

    @property
    def matched(self) -> float:
        return sum(self.tally.rows.values())


def _seconds(value: float) -> float:
    return round(value, 3)


def to_json(report: Report) -> dict:
    """The `--json` document: seconds as numbers, rows most first; `days` only when per day."""
    ranked = report.ranked()
    doc: dict = {
        "since": report.period.since.isoformat(),
        "until": report.period.until.isoformat(),
        "host": report.host,
        "source": str(report.source.kind),
        "buckets": report.source.buckets + report.source.afk,
        f"{report.rows}s": {name: _seconds(seconds) for name, seconds in ranked},
        "active": _seconds(report.tally.active),
    }
    if report.tally.days is not None:
        doc["days"] = {
            day: {name: _seconds(rows[name]) for name, _ in ranked if rows.get(name, 0) > 0}
            for day, rows in report.tally.days.items()
        }
    return doc


def slice_edges(days: list[Day]) -> list[Span]:
    """The period in runs of DAYS_PER_SLICE local days: what is read from the server at once."""
    return [
        (days[first][1], days[min(first + DAYS_PER_SLICE, len(days)) - 1][2])
        for first in range(0, len(days), DAYS_PER_SLICE)
    ]


def build_report(
    buckets: dict[str, dict],
    events: Events,
    host: str,
    period: Period,
    names: list[str],
    days: list[Day],
    per_day: bool = False,
    by_file: bool = False,
) -> tuple[Report, list[str]]:
    """Reads the chosen source slice by slice (`slice_edges`) and tallies;
    returns the report and notes for the user (e.g. that the host has no AFK watcher)."""
    whole = (period.since.timestamp(), period.until.timestamp())
    source = choose_source(buckets, host, lambda bucket: events.has_events(bucket, whole), by_file, names)
    notes = []
    if source.kind is Kind.TITLES and not source.afk:
        notes.append(f"note: host {host!r} has no AFK-watcher (afkstatus) data; all window time counts as active")
    counted = Tally()
    match = project_matcher(names) if source.kind is Kind.TITLES else exact
    key = "title" if source.kind is Kind.TITLES else "file" if by_file else "project"
    try:
        for span, found in events.slices(source.buckets + source.afk, slice_edges(days)):
            pieces = [piece for bucket in source.buckets for piece in labelled(found[bucket], key)]
            active = active_spans(event for bucket in source.afk for event in found[bucket]) if source.afk else None
            counted.add(counted_pieces(pieces, active, span), match, days if per_day else None)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UserError(f"ActivityWatch sent an event this report cannot read ({type(exc).__name__}: {exc})") from None
    return Report(host, period, counted, source, "file" if by_file else "project"), notes
