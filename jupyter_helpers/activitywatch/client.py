"""A thin reader of ActivityWatch's REST API (the same on aw-server and aw-server-rust).

Only two calls: the bucket list and one bucket's raw events in a time range (no query2, which
misbehaves in aw-server 0.12). Every fault becomes a one-line UserError that says what to check.

What a server can do to the report is bounded:
- time: one deadline for the whole report (`timeout`), enforced by closing the socket when it
  passes, so a server that answers a byte at a time cannot stretch it (a per-read timeout could);
- memory: events are read in slices of the period (report.slice_edges: weeks), halved while a
  bucket has more than `page` events in one, each answer at most `page` events and `MAX_ANSWER`
  bytes;
- where it goes: redirects are followed only on the same scheme, host and port, so the key and
  the error lines never concern another server than the one given.
ActivityWatch listens on loopback, so proxy settings from the environment are not used.
"""

from __future__ import annotations

import http.client
import json
import math
import socket
import threading
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime

from ..common.editor_bucket import url_problem
from ..common.errors import UserError

TIMEOUT = 300.0  # the Python aw-server takes ~15 s to send 10^5 events (benchmarks/)
PAGE = 10_000  # events per answer; a slice above it is read in halves
MAX_ANSWER = 64 * 2**20  # bytes; PAGE events of long window titles stay far below
MAX_REDIRECTS = 5
SHORTEST_SLICE = 1.0  # seconds; more than PAGE events starting within one second is not a history
REDIRECTS = {301, 302, 303, 307, 308}

Span = tuple[float, float]  # epoch seconds


def origin(url: str) -> tuple[str, str]:
    """(scheme, host:port): what a key and a redirect must stay within; a URL that does not parse
    is its own origin."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "", url
    return parts.scheme, parts.netloc.lower()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


class ActivityWatchServer:
    def __init__(self, url: str, timeout: float = TIMEOUT, api_key: str | None = None, page: int = PAGE) -> None:
        if why := url_problem(url):
            raise UserError(f"--server {url!r}: {why}")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.page = page
        self._headers = {"Accept": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"

    # --- one answer -------------------------------------------------------------------------------

    def _late(self) -> UserError:
        return UserError(
            f"ActivityWatch at {self.url} did not finish answering within {self.timeout:g} s: "
            "report a shorter period, or allow longer with --timeout SECONDS"
        )

    def _unlike(self, what: str) -> UserError:
        return UserError(f"{self.url} does not answer like ActivityWatch ({what}); check --server")

    def _exchange(self, target: str) -> tuple[int, str, bytes]:
        """One GET within what is left of the deadline: status, Location, body (at most
        MAX_ANSWER + 1 bytes). A timer shuts the socket down when the deadline passes."""
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise self._late()
        parts = urllib.parse.urlsplit(target)
        kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        connection = kind(parts.hostname or "", parts.port, timeout=left)

        def cut() -> None:
            sock = connection.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        timer = threading.Timer(left, cut)
        timer.daemon = True
        timer.start()
        try:
            try:
                connection.connect()
            except OSError as exc:
                if isinstance(exc, TimeoutError) or time.monotonic() >= self.deadline:
                    raise self._late() from None
                raise UserError(
                    f"cannot reach ActivityWatch at {self.url} ({exc.strerror or type(exc).__name__}): "
                    "start ActivityWatch or pass --server URL"
                ) from None
            connection.request(
                "GET", urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, "")), headers=self._headers
            )
            response = connection.getresponse()
            body = response.read(MAX_ANSWER + 1)
            if time.monotonic() >= self.deadline:
                raise self._late()
            if response.length and len(body) <= MAX_ANSWER:  # read() returns a short body when cut off
                raise http.client.IncompleteRead(body, response.length)
            return response.status, response.getheader("Location") or "", body
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, TimeoutError) or time.monotonic() >= self.deadline:
                raise self._late() from None
            raise self._unlike(f"GET {parts.path}: {type(exc).__name__}") from None
        finally:
            timer.cancel()
            connection.close()

    def _get(self, path: str, params: dict[str, str] | None = None) -> object:
        target = f"{self.url}{path}" + ("?" + urllib.parse.urlencode(params) if params else "")
        for _ in range(MAX_REDIRECTS + 1):
            status, location, body = self._exchange(target)
            if status not in REDIRECTS:
                break
            try:
                target = urllib.parse.urljoin(target, location)
            except ValueError:
                raise self._unlike(f"GET {path} redirected to {location!r}, which is no URL") from None
            if origin(target) != origin(self.url):
                shown = urllib.parse.urlunsplit(urllib.parse.urlsplit(target)[:3] + ("", ""))
                raise UserError(
                    f"{self.url} redirected GET {path} to {shown!r}, another server; not followed: "
                    "pass ActivityWatch's own address with --server"
                )
        else:
            raise self._unlike(f"GET {path} redirected more than {MAX_REDIRECTS} times")
        if status in (401, 403):
            raise UserError(
                f"ActivityWatch at {self.url} refused the report (GET {path} gave HTTP {status}): "
                "set its API key as c.ActivityWatch.api_key in jupyter_server_config.py"
            )
        if status != 200:
            raise self._unlike(f"GET {path} gave HTTP {status}")
        if len(body) > MAX_ANSWER:
            raise self._unlike(f"GET {path} sent more than {MAX_ANSWER // 2**20} MB")
        try:
            return json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise self._unlike(f"GET {path}: {type(exc).__name__}") from None

    # --- the two calls ----------------------------------------------------------------------------

    def buckets(self) -> dict[str, dict]:
        """Bucket id -> its metadata (`type`, `hostname`, ...)."""
        buckets = self._get("/api/0/buckets/")
        if not isinstance(buckets, dict) or not all(isinstance(bucket, dict) for bucket in buckets.values()):
            raise self._unlike("no bucket list at /api/0/buckets/")
        return buckets

    def events(self, bucket_id: str, span: Span, limit: int) -> list[dict]:
        """At most `limit` of the bucket's events that overlap the span, latest first (servers may
        or may not trim them to it)."""
        path = f"/api/0/buckets/{urllib.parse.quote(bucket_id, safe='')}/events"
        events = self._get(path, {"start": _iso(span[0]), "end": _iso(span[1]), "limit": str(limit)})
        if not isinstance(events, list) or not all(isinstance(event, dict) for event in events):
            raise self._unlike(f"no event list at {path}")
        return events

    def has_events(self, bucket_id: str, span: Span) -> bool:
        return bool(self.events(bucket_id, span, 1))

    def slices(self, bucket_ids: list[str], edges: list[Span]) -> Iterator[tuple[Span, dict[str, list[dict]]]]:
        """Every event of the buckets that overlaps the spans, one slice at a time in time order:
        (slice, bucket id -> its events). A slice where a bucket has more than `page` events is
        read again in halves, so no more than one slice's events are held at once. Slices wider
        than the last halved one are halved before asking (a dense history stays dense), and that
        width doubles after each answer under half a page (a burst does not slow the rest)."""
        pending = list(reversed(edges))
        fits = math.inf  # slices wider than this had too many events
        while pending:
            span = pending.pop()
            if span[1] - span[0] <= fits:
                found = {bucket: self.events(bucket, span, self.page + 1) for bucket in bucket_ids}
                most = max((len(events) for events in found.values()), default=0)
                if most <= self.page:
                    if most <= self.page // 2:
                        fits = max(fits, 2 * (span[1] - span[0]))
                    yield span, found
                    continue
                if span[1] - span[0] <= SHORTEST_SLICE:
                    raise UserError(
                        f"ActivityWatch at {self.url} holds more than {self.page} events within one "
                        f"second of {_iso(span[0])}; check the watchers"
                    )
                fits = (span[1] - span[0]) / 2
            middle = (span[0] + span[1]) / 2
            pending += [(middle, span[1]), (span[0], middle)]
