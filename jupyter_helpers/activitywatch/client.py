"""A thin reader of ActivityWatch's REST API (the same on aw-server and aw-server-rust).

Only two calls: the bucket list and one bucket's raw events in a time range (no query2, which
misbehaves in aw-server 0.12). Every fault becomes a one-line UserError that says what to check.
ActivityWatch listens on loopback, so proxy settings from the environment are not used.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC

from ..common.errors import UserError
from .periods import Period

DEFAULT_SERVER = "http://127.0.0.1:5600"
TIMEOUT = 300.0  # the Python aw-server takes ~40 s to send 10^5 events (benchmarks/)


class ActivityWatchServer:
    def __init__(self, url: str, timeout: float = TIMEOUT) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UserError(f"--server {url!r}: expected an http:// URL such as {DEFAULT_SERVER}")
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _get(self, path: str, params: dict[str, str] | None = None) -> object:
        query = "?" + urllib.parse.urlencode(params) if params else ""
        where = f"{self.url}{path}"
        try:
            with self._opener.open(where + query, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            raise UserError(f"{self.url} does not answer like ActivityWatch (GET {path} gave HTTP {exc.code}); "
                            "check --server") from None
        except urllib.error.URLError as exc:
            reason = exc.reason.strerror if isinstance(exc.reason, OSError) and exc.reason.strerror else exc.reason
            raise UserError(f"cannot reach ActivityWatch at {self.url} ({reason}): start ActivityWatch "
                            "or pass --server URL") from None
        except TimeoutError:
            raise UserError(f"ActivityWatch at {self.url} did not answer within {self.timeout:g} s") from None
        except (http.client.HTTPException, ConnectionError, ValueError) as exc:
            raise UserError(f"{self.url} does not answer like ActivityWatch (GET {path}: "
                            f"{type(exc).__name__}); check --server") from None

    def buckets(self) -> dict[str, dict]:
        """Bucket id -> its metadata (`type`, `hostname`, ...)."""
        buckets = self._get("/api/0/buckets/")
        if not isinstance(buckets, dict) or not all(isinstance(bucket, dict) for bucket in buckets.values()):
            raise UserError(f"{self.url} does not answer like ActivityWatch (no bucket list at /api/0/buckets/); "
                            "check --server")
        return buckets

    def events(self, bucket_id: str, period: Period) -> list[dict]:
        """All of the bucket's events that overlap the period (servers may or may not trim them)."""
        path = f"/api/0/buckets/{urllib.parse.quote(bucket_id, safe='')}/events"
        events = self._get(path, {"start": period.since.astimezone(UTC).isoformat(),
                                  "end": period.until.astimezone(UTC).isoformat()})
        if not isinstance(events, list):
            raise UserError(f"{self.url} does not answer like ActivityWatch (no event list at {path})")
        return events
