"""Which document the user is using, as segments of time: the pure half of ActivityWatch heartbeats.

Pages report (server/presence.py) whether they are visible and focused and how long ago the user
gave input. A document is **in use** while a page showing it is visible and focused, had input
within `idle_after` seconds, and keeps reporting (a focused page reports every HEARTBEAT_SECONDS).
At most one document is in use at a time: the one whose page had the latest input.

`Activity` turns the reports into spans of use and hands them out as `Segment`s, each starting
where the previous one of its span ended, so that aw-server merges them into one event per span
and a segment sent twice (an answer lost on the way) never counts twice. Times are the server's
clock, passed in: the tests drive it with their own.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ..common.editor_bucket import EditorData
from ..common.presence import HEARTBEAT_SECONDS

# A page that stops reporting (a crashed tab of a text file) still counts this long after its
# last report: a focused page reports every HEARTBEAT_SECONDS, plus up to ~3 s of the page's own
# pacing. A notebook's crashed tab ends sooner: its kernel's websockets close (`forget`).
REPORT_GRACE = HEARTBEAT_SECONDS + 5.0
MAX_PAGES = 256  # pages that may be in use, followed at once
MAX_QUEUED = 1000  # segments kept while aw-server cannot be reached (contiguous ones merge)


@dataclass(frozen=True)
class PageState:
    data: EditorData | None  # what the page shows, None when it is no document we count (a folder)
    focused: bool
    visible: bool
    reported: float
    last_input: float | None

    def in_use_until(self, idle_after: float) -> float | None:
        """Until when this page counts as in use without another report; None if it does not."""
        if self.data is None or not (self.focused and self.visible) or self.last_input is None:
            return None
        return min(self.last_input + idle_after, self.reported + REPORT_GRACE)


@dataclass
class Segment:
    data: EditorData
    start: float
    end: float


@dataclass
class _Span:
    data: EditorData
    start: float
    end: float  # in use until here, as far as the reports tell
    until: float  # the latest it can end without another report
    handed_out: float  # segments up to here were handed out


@dataclass(frozen=True)
class _Candidate:
    """A page that counts as in use until `until` unless news comes (one per page)."""

    until: float
    last_input: float
    data: EditorData


class Activity:
    def __init__(self, idle_after: float) -> None:
        self.idle_after = idle_after
        self.candidates: dict[str, _Candidate] = {}  # pages that may be in use (with real focus: one)
        self.span: _Span | None = None
        self.queue: deque[Segment] = deque()
        self.dropped = 0  # oldest segments dropped to keep MAX_QUEUED (the sender reports and resets it)

    def report(self, page: str, state: PageState, now: float) -> None:
        """A page's latest state. The time up to `now` counts by the state before it."""
        self.advance(now)
        self.candidates.pop(page, None)
        until = state.in_use_until(self.idle_after)
        if until is not None and state.data is not None and state.last_input is not None:
            self.candidates[page] = _Candidate(until, state.last_input, state.data)
            while len(self.candidates) > MAX_PAGES:
                del self.candidates[next(iter(self.candidates))]
        self.advance(now)

    def forget(self, pages: list[str], now: float) -> None:
        """These pages are gone (closed, or their kernel's websockets all closed)."""
        self.advance(now)
        for page in pages:
            self.candidates.pop(page, None)
        self.advance(now)

    def in_use(self, now: float) -> tuple[EditorData, float] | None:
        """The document in use at `now` and until when it counts without news, if any."""
        best: _Candidate | None = None
        for candidate in self.candidates.values():
            if candidate.until > now and (best is None or candidate.last_input > best.last_input):
                best = candidate
        return None if best is None else (best.data, best.until)

    def advance(self, now: float) -> None:
        """Moves the current span to `now`: extends it, or ends it (at `now`, or earlier when it
        ran out of input or reports) and starts the next one."""
        current = self.in_use(now)
        span = self.span
        if span is not None and (current is None or current[0] != span.data):
            span.end = max(span.end, min(now, span.until))
            self._hand_out(span)
            self.span = span = None
        if current is None:
            return
        data, until = current
        if span is None:
            self.span = _Span(data, start=now, end=now, until=until, handed_out=now)
        else:
            span.end, span.until = max(span.end, now), until

    def take(self, now: float) -> list[Segment]:
        """Every segment of use up to `now` not handed out yet, oldest first (for sending)."""
        self.advance(now)
        if self.span is not None:
            self._hand_out(self.span)
        taken = list(self.queue)
        self.queue.clear()
        return taken

    def give_back(self, segments: list[Segment]) -> None:
        """Segments that could not be sent go back in front of newer ones, to be sent later."""
        for segment in reversed(segments):
            if self.queue and _contiguous(segment, self.queue[0]):
                self.queue[0] = Segment(segment.data, segment.start, self.queue[0].end)
            else:
                self.queue.appendleft(segment)
        self._bound()

    def _hand_out(self, span: _Span) -> None:
        if span.end <= span.handed_out:
            return
        segment = Segment(span.data, span.handed_out, span.end)
        span.handed_out = span.end
        if self.queue and _contiguous(self.queue[-1], segment):
            self.queue[-1] = Segment(segment.data, self.queue[-1].start, segment.end)
        else:
            self.queue.append(segment)
        self._bound()

    def _bound(self) -> None:
        while len(self.queue) > MAX_QUEUED:
            self.queue.popleft()
            self.dropped += 1


def _contiguous(first: Segment, second: Segment) -> bool:
    return first.data == second.data and first.end == second.start
