"""A real ActivityWatch server (PyPI aw-server) on 127.0.0.1 in testing mode, data in a temp dir."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

from support.processes import free_port, stop_process

BIN = Path(sys.executable).parent


class ActivityWatch:
    def __init__(self, workdir: Path, storage: str = "memory", port: int | None = None) -> None:
        """`storage`: "memory" (fast to start) or "peewee" (SQLite under workdir; memory's inserts
        slow down with the bucket's size, so seed large histories into peewee). `port`: a given
        one (to start it again where a client expects it), else a free one."""
        self.port = port or free_port()
        self.api = f"http://127.0.0.1:{self.port}/api/0/"
        env = {"HOME": str(workdir), "PATH": "/usr/bin:/bin", "XDG_DATA_HOME": str(workdir / "data"),
               "XDG_CONFIG_HOME": str(workdir / "config"), "XDG_CACHE_HOME": str(workdir / "cache")}
        self._log = (workdir / "aw-server.log").open("wb")
        self.process = subprocess.Popen(
            [str(BIN / "aw-server"), "--testing", "--host", "127.0.0.1", "--port", str(self.port),
             "--storage", storage],
            env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                self.call("GET", "info")
                return
            except OSError:
                if self.process.poll() is not None:
                    break
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"aw-server did not start: {(workdir / 'aw-server.log').read_text()}")

    def call(self, method: str, path: str, payload: object = None) -> object:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.api + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def add_events(self, bucket: str, bucket_type: str, events: list[dict]) -> None:
        """One event a minute, oldest first, each with the given data."""
        start = datetime.now(UTC) - timedelta(hours=1)
        self.insert(bucket, bucket_type, "tests", [
            (start + timedelta(minutes=i), start + timedelta(minutes=i + 1), data) for i, data in enumerate(events)
        ])

    def insert(self, bucket: str, bucket_type: str, hostname: str,
               spans: list[tuple[datetime, datetime, dict]]) -> None:
        """Creates the bucket (as a watcher on `hostname` would) and stores one event per
        (start, end, data); datetimes must be aware."""
        self.call("POST", f"buckets/{bucket}", {"client": "tests", "type": bucket_type, "hostname": hostname})
        self.call("POST", f"buckets/{bucket}/events", [
            {"timestamp": start.isoformat(), "duration": (end - start).total_seconds(), "data": data}
            for start, end, data in spans
        ])

    def categorized(self, bucket: str, categorize_line: str) -> list[dict]:
        """Runs a query2 that applies `categorize_line` to the bucket's events."""
        now = datetime.now(UTC)
        period = f"{(now - timedelta(hours=2)).isoformat()}/{(now + timedelta(minutes=1)).isoformat()}"
        query = [f'events = query_bucket("{bucket}");', categorize_line, "RETURN = events;"]
        return self.call("POST", "query/", {"timeperiods": [period], "query": query})[0]

    def stop(self) -> None:
        stop_process(self.process, grace=20)
        self._log.close()
