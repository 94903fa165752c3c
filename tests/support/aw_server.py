"""A real ActivityWatch server (PyPI aw-server) on 127.0.0.1 in testing mode, data in a temp dir.

aw-server runs from an environment of its own, as one runs any service: it needs Flask 2.2 and
peewee 3 (FIELD-NOTES), which would hold the Telegram stack in the test environment back from what
users install. `.ci/run` creates that environment (`.venv-aw` beside the project); `JH_AW_SERVER`
names another `aw-server` executable. Without either, the tests that need it skip and say how to
set it up (in CI a skip fails: tests/conftest.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from support.processes import free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]
SETUP = "python3 -m venv .venv-aw && .venv-aw/bin/pip install aw-server 'flask==2.2.5' 'peewee<4'"


def aw_server_command() -> Path:
    """The `aw-server` to run: `$JH_AW_SERVER`, else the project's `.venv-aw`; skips the calling
    test (with the command that sets it up) when there is none."""
    named = os.environ.get("JH_AW_SERVER")
    command = Path(named) if named else ROOT / ".venv-aw" / "bin" / "aw-server"
    if not os.access(command, os.X_OK):
        where = f"JH_AW_SERVER={named}" if named else str(command)
        pytest.skip(
            f"no aw-server at {where}: run `{SETUP}` in {ROOT} (as .ci/run does), "
            "or set JH_AW_SERVER to an aw-server executable"
        )
    return command


class ActivityWatch:
    def __init__(self, workdir: Path, storage: str = "memory", port: int | None = None) -> None:
        """`storage`: "memory" (fast to start) or "peewee" (SQLite under workdir; memory's inserts
        slow down with the bucket's size, so seed large histories into peewee). `port`: a given
        one (to start it again where a client expects it), else a free one."""
        command = aw_server_command()
        self.port = port or free_port()
        self.api = f"http://127.0.0.1:{self.port}/api/0/"
        env = {
            "HOME": str(workdir),
            "PATH": "/usr/bin:/bin",
            "XDG_DATA_HOME": str(workdir / "data"),
            "XDG_CONFIG_HOME": str(workdir / "config"),
            "XDG_CACHE_HOME": str(workdir / "cache"),
        }
        self._log = (workdir / "aw-server.log").open("wb")
        self.process = subprocess.Popen(
            [str(command), "--testing", "--host", "127.0.0.1", "--port", str(self.port), "--storage", storage],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
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
        request = urllib.request.Request(
            self.api + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None

    def add_events(self, bucket: str, bucket_type: str, events: list[dict]) -> None:
        """One event a minute, oldest first, each with the given data."""
        start = datetime.now(UTC) - timedelta(hours=1)
        self.insert(
            bucket,
            bucket_type,
            "tests",
            [(start + timedelta(minutes=i), start + timedelta(minutes=i + 1), data) for i, data in enumerate(events)],
        )

    def create_bucket(self, bucket: str, bucket_type: str, hostname: str, client: str = "tests") -> None:
        """Creates the bucket as a watcher on `hostname` would (aw-server answers 304 when it exists)."""
        try:
            self.call("POST", f"buckets/{bucket}", {"client": client, "type": bucket_type, "hostname": hostname})
        except urllib.error.HTTPError as exc:
            if exc.code != 304:
                raise

    def heartbeat(self, bucket: str, when: datetime, data: dict, pulsetime: float) -> None:
        """One heartbeat, as a watcher sends it: aw-server merges it into the last event when the
        data is the same and it comes within `pulsetime` of that event's end."""
        self.call(
            "POST",
            f"buckets/{bucket}/heartbeat?pulsetime={pulsetime:g}",
            {"timestamp": when.isoformat(), "duration": 0, "data": data},
        )

    def insert(
        self, bucket: str, bucket_type: str, hostname: str, spans: list[tuple[datetime, datetime, dict]]
    ) -> None:
        """Creates the bucket (as a watcher on `hostname` would) and stores one event per
        (start, end, data); datetimes must be aware."""
        self.create_bucket(bucket, bucket_type, hostname)
        self.call(
            "POST",
            f"buckets/{bucket}/events",
            [
                {"timestamp": start.isoformat(), "duration": (end - start).total_seconds(), "data": data}
                for start, end, data in spans
            ],
        )

    def categorized(self, bucket: str, categorize_line: str) -> list[dict]:
        """Runs a query2 that applies `categorize_line` to the bucket's events."""
        now = datetime.now(UTC)
        period = f"{(now - timedelta(hours=2)).isoformat()}/{(now + timedelta(minutes=1)).isoformat()}"
        query = [f'events = query_bucket("{bucket}");', categorize_line, "RETURN = events;"]
        return self.call("POST", "query/", {"timeperiods": [period], "query": query})[0]

    def stop(self) -> None:
        stop_process(self.process, grace=20)
        self._log.close()
