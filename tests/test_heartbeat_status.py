"""The `status` probe for ActivityWatch heartbeats (installer/heartbeat_status.py) against a real
aw-server, with the settings in an isolated Jupyter config dir."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from jupyter_helpers.common.editor_bucket import BUCKET_TYPE, bucket_id
from jupyter_helpers.installer.heartbeat_status import check_heartbeats

from support.aw_server import ActivityWatch
from support.processes import RefusingPort

BUCKET = bucket_id(socket.gethostname())


@pytest.fixture(scope="module")
def aw(tmp_path_factory: pytest.TempPathFactory):
    server = ActivityWatch(tmp_path_factory.mktemp("aw"))
    yield server
    server.stop()


def configure(home: Path, text: str) -> None:
    (home / ".jupyter").mkdir(exist_ok=True)
    (home / ".jupyter" / "jupyter_server_config.py").write_text(text)


def url_of(aw: ActivityWatch) -> str:
    return aw.api.removesuffix("/api/0/")


def test_the_bucket_and_its_last_beat(home: Path, aw: ActivityWatch) -> None:
    configure(home, f"c.ActivityWatch.url = {url_of(aw)!r}\n")
    ok, text = check_heartbeats()
    assert ok and text == (
        f"ActivityWatch heartbeats: aw-server at {url_of(aw)} has no bucket {BUCKET} "
        "yet (a Jupyter server started since install creates it within 10 s)"
    )
    start = datetime.now(UTC) - timedelta(minutes=3)
    aw.insert(BUCKET, BUCKET_TYPE, socket.gethostname(), [(start, start + timedelta(seconds=55), {"file": "/a"})])
    ok, text = check_heartbeats(now=start + timedelta(minutes=2, seconds=55))
    assert ok and text == f"ActivityWatch heartbeats reach {url_of(aw)}: bucket {BUCKET}, last heartbeat 2 min 00 s ago"


def test_nothing_listening_is_no_error(home: Path) -> None:
    closed = RefusingPort()
    url = closed.url
    configure(home, f"c.ActivityWatch.url = {url!r}\n")
    ok, text = check_heartbeats()
    assert ok and text.startswith(f"ActivityWatch heartbeats: nothing answers at {url} (")
    assert text.endswith("Jupyter time reaches it once aw-server runs (optional)")


def test_switched_off(home: Path) -> None:
    configure(home, "c.ActivityWatch.heartbeats = False\n")
    ok, text = check_heartbeats()
    assert ok and text.startswith("ActivityWatch heartbeats: off (c.ActivityWatch.heartbeats = False in ")


class Refusing(BaseHTTPRequestHandler):
    """aw-server-rust with an API key, as a client without the right one sees it."""

    def do_GET(self) -> None:
        self.server.seen.append(self.headers.get("Authorization"))  # type: ignore[attr-defined]
        self.send_response(401)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_refusal_names_the_api_key_setting(home: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    server.seen = []  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        configure(home, f"c.ActivityWatch.url = {url!r}\nc.ActivityWatch.api_key = 'wrong-key'\n")
        ok, text = check_heartbeats()
    finally:
        server.shutdown()
    assert not ok and text == (
        f"ActivityWatch at {url} refuses heartbeats (HTTP 401): set "
        "c.ActivityWatch.api_key in jupyter_server_config.py to its API key"
    )
    assert server.seen == ["Bearer wrong-key"]  # type: ignore[attr-defined]


def test_an_unreadable_config_is_one_line(home: Path) -> None:
    configure(home, "c.ActivityWatch.url = (\n")
    ok, text = check_heartbeats()
    assert not ok and "jupyter_server_config.py" in text and "\n" not in text
