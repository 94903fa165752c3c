"""Stand-ins for ActivityWatch where the real one cannot go: servers that misbehave on purpose, and a
history too large to seed into aw-server in a test (10^6 events).

`History` answers like aw-server's memory store: `GET /api/0/buckets/` lists a window and an AFK
bucket of host "big"; `GET /api/0/buckets/<id>/events?start=&end=&limit=` returns the events that
overlap the range, latest first, untrimmed, at most `limit`. Window events follow each other every
30 s (30 s long, titles of two mapped projects and a terminal); the AFK watcher says not-afk for
the whole stretch. Answers are written as they are generated, so the fake's own memory stays small.
"""

from __future__ import annotations

import json
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

START = datetime(2025, 1, 1, tzinfo=UTC)
STEP = 30.0
TITLES = [
    "nb{}.ipynb - JupyterLab - Project Alpha - Google Chrome",
    "nb{}.ipynb - JupyterLab - Project Beta — Mozilla Firefox",
    "~/src{}: bash",
]
BUCKETS = {
    "aw-watcher-window_big": {
        "id": "aw-watcher-window_big",
        "type": "currentwindow",
        "hostname": "big",
        "client": "fake",
    },
    "aw-watcher-afk_big": {"id": "aw-watcher-afk_big", "type": "afkstatus", "hostname": "big", "client": "fake"},
}


class Quiet(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def send_body(self, body: bytes, status: int = 200, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hung up (the report giving up on a dripping server) is what the test
        wants, not a traceback on the stderr of a CLI run in the same process."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """The handler on 127.0.0.1 in a thread; yields its base URL; shuts it down after."""
    server = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def history(events: int) -> type[BaseHTTPRequestHandler]:
    """A handler serving `events` window events from START on (see the module's docstring)."""
    end = START + timedelta(seconds=STEP * events)

    class History(Quiet):
        def do_GET(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/api/0/buckets/":
                self.send_body(json.dumps(BUCKETS).encode())
                return
            query = dict(urllib.parse.parse_qsl(url.query))
            since = max(datetime.fromisoformat(query["start"]), START)
            until = min(datetime.fromisoformat(query["end"]), end)
            limit = int(query.get("limit", "-1"))
            self.send_response(200)
            self.send_header("Connection", "close")  # the body ends when the connection does
            self.end_headers()
            self.wfile.write(b"[")
            if url.path.endswith("afk_big/events") and since < until:
                self.wfile.write(
                    json.dumps(
                        {
                            "id": 0,
                            "timestamp": START.isoformat(),
                            "duration": STEP * events,
                            "data": {"status": "not-afk"},
                        }
                    ).encode()
                )
            elif url.path.endswith("window_big/events") and since < until:
                first = int((since - START).total_seconds() // STEP)
                last = min(int((until - START).total_seconds() // STEP), events - 1)
                count = last - first + 1 if limit < 0 else min(limit, last - first + 1)
                batch = []
                for number, index in enumerate(range(last, last - count, -1)):
                    stamp = (START + timedelta(seconds=STEP * index)).isoformat()
                    title = TITLES[index % 3].format(index % 40)
                    batch.append(
                        (", " if number else "")
                        + json.dumps(
                            {"id": index, "timestamp": stamp, "duration": STEP, "data": {"app": "x", "title": title}}
                        )
                    )
                    if len(batch) == 1000:
                        self.wfile.write("".join(batch).encode())
                        batch.clear()
                self.wfile.write("".join(batch).encode())
            self.wfile.write(b"]")
            self.close_connection = True

    return History
