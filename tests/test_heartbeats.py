"""ActivityWatch heartbeats through real parts, without a browser: presence reports posted to a real
Jupyter server in the test process (jupyter_server's plugin), the extension's heartbeats going to a
real aw-server. (With Chromium and real focus: test_heartbeats_browser.py.)"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from pathlib import Path

import pytest
from tornado import web
from tornado.httpserver import HTTPServer

from jupyter_helpers.common.editor_bucket import BUCKET_TYPE, bucket_id
from jupyter_helpers.common.projects import ProjectMap
from jupyter_helpers.server import activity
from jupyter_helpers.server.heartbeats import ActivityWatch as ActivityWatchSettings
from jupyter_helpers.server.heartbeats import Documents, Heartbeats, read_settings
from jupyter_helpers.server.presence import Report

from support.aw_server import ActivityWatch
from support.jupyter_server import in_process_config, open_session, start_extensions
from support.processes import RefusingPort

BUCKET = bucket_id(socket.gethostname())
INTERVAL = 0.3


@pytest.fixture(scope="module")
def aw(tmp_path_factory: pytest.TempPathFactory):
    server = ActivityWatch(tmp_path_factory.mktemp("aw"))
    yield server
    server.stop()


@pytest.fixture
def aw_url(aw: ActivityWatch) -> str:
    """The module's aw-server, without the bucket an earlier test filled."""
    if BUCKET in aw.call("GET", "buckets/"):
        aw.call("DELETE", f"buckets/{BUCKET}?force=1")
    return aw.api.removesuffix("/api/0/")


@pytest.fixture
def aw_config() -> dict:
    """A test's own `c.ActivityWatch` settings (parametrize `aw_config`): the server reads them once, at load."""
    return {}


@pytest.fixture
def jp_server_config(aw_url: str, jp_root_dir: Path, aw_config: dict) -> dict:
    return in_process_config(
        ProjectTitles={
            "projects": {str(jp_root_dir / "alpha"): "Project Alpha", str(jp_root_dir / "beta"): "Project Beta"}
        },
        ActivityWatch={"heartbeats": True, "url": aw_url, "interval": INTERVAL, "idle_after": 60, **aw_config},
    )


@pytest.fixture(autouse=True)
def documents(jp_root_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    for name in ("alpha/a.ipynb", "beta/b.ipynb"):
        (jp_root_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (jp_root_dir / name).write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    (jp_root_dir / "alpha" / "train.py").write_text("print(1)\n")
    (jp_root_dir / "beta" / "notes.md").write_text("# notes\n")


class Page:
    """What one page's presence script sends, driven by the test."""

    def __init__(self, jp_fetch, page: str) -> None:
        self.fetch, self.page, self.seq = jp_fetch, page, 0

    async def report(self, path: str, focused: bool = True, idle: float | None = 0.1, **extra) -> None:
        self.seq += 1
        body = {
            "page": self.page,
            "seq": self.seq,
            "path": path,
            "focused": focused,
            "visible": True,
            "idle": idle,
            **extra,
        }
        response = await self.fetch("jupyter-helpers", "presence", method="POST", body=json.dumps(body))
        assert response.code == 204

    async def use(self, path: str, seconds: float) -> None:
        """Input all the time, reported every second (as the page does after a quiet spell)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            await self.report(path)
            await asyncio.sleep(min(1.0, max(0.0, deadline - time.monotonic())))


def events(aw: ActivityWatch) -> list[dict]:
    buckets = aw.call("GET", "buckets/")
    return aw.call("GET", f"buckets/{BUCKET}/events?limit=1000")[::-1] if BUCKET in buckets else []


def seconds_per(aw: ActivityWatch, key: str) -> dict[str, float]:
    totals: dict[str, float] = {}
    for event in events(aw):
        totals[event["data"][key]] = totals.get(event["data"][key], 0.0) + event["duration"]
    return totals


async def settle() -> None:
    await asyncio.sleep(4 * INTERVAL)


async def test_time_per_document_reaches_the_editor_bucket(jp_fetch, jp_serverapp, jp_root_dir, aw) -> None:
    await start_extensions(jp_serverapp)
    await open_session(jp_fetch, "alpha/a.ipynb")
    page = Page(jp_fetch, "pLabPage001")
    await page.use("alpha/a.ipynb", 3)
    await page.use("beta/notes.md", 2)  # a tab switch to a text file
    await page.use("alpha/train.py", 1.5)
    await page.report("alpha/train.py", focused=False)
    await page.use("alpha", 1.5)  # a folder: no document
    await settle()
    bucket = aw.call("GET", "buckets/")[BUCKET]
    assert (bucket["type"], bucket["client"], bucket["hostname"]) == (
        BUCKET_TYPE,
        "aw-watcher-jupyter",
        socket.gethostname(),
    )
    by_file = {Path(event["data"]["file"]).name: event["data"] for event in events(aw)}
    assert by_file == {
        "a.ipynb": {"file": str(jp_root_dir / "alpha/a.ipynb"), "project": "Project Alpha", "language": "python"},
        "notes.md": {"file": str(jp_root_dir / "beta/notes.md"), "project": "Project Beta", "language": "markdown"},
        "train.py": {"file": str(jp_root_dir / "alpha/train.py"), "project": "Project Alpha", "language": "python"},
    }
    assert len(events(aw)) == 3  # one event per stretch: the beats merged
    durations = seconds_per(aw, "file")
    for name, expected in (
        (str(jp_root_dir / "alpha/a.ipynb"), 3),
        (str(jp_root_dir / "beta/notes.md"), 2),
        (str(jp_root_dir / "alpha/train.py"), 1.5),
    ):
        assert abs(durations[name] - expected) < 0.6, durations


async def test_made_up_paths_hidden_pages_and_other_users_add_nothing(
    jp_fetch, jp_serverapp, aw, monkeypatch: pytest.MonkeyPatch
) -> None:
    await start_extensions(jp_serverapp)
    page = Page(jp_fetch, "pOddPages01")
    await page.use("../../etc/passwd", 1)
    await page.use("alpha/missing.py", 1)
    await page.report("alpha/train.py", visible=False)
    await page.report("alpha/train.py", idle=None)
    await asyncio.sleep(1)
    monkeypatch.setenv("JUPYTERHUB_USER", "the-owner")  # a shared server: this token's user is not its owner
    await page.use("alpha/train.py", 1)
    await settle()
    assert events(aw) == []


async def test_closing_the_page_ends_its_time_at_once(jp_fetch, jp_serverapp, aw) -> None:
    await start_extensions(jp_serverapp)
    page = Page(jp_fetch, "pClosing001")
    await page.use("alpha/train.py", 1.5)
    await page.report("alpha/train.py", focused=False, visible=False, closing=True)
    await asyncio.sleep(2)
    assert abs(seconds_per(aw, "language")["python"] - 1.5) < 0.5


DOWN = RefusingPort()  # aw-server starts there halfway through the test


@pytest.mark.parametrize("aw_config", [{"url": DOWN.url}])
async def test_aw_server_down_then_up_loses_nothing_and_says_so_once(
    jp_fetch, jp_serverapp, aw_config, tmp_path, caplog
) -> None:
    down_url = aw_config["url"]
    await start_extensions(jp_serverapp)
    page = Page(jp_fetch, "pDownUp0001")
    started = time.time()
    await page.use("alpha/train.py", 4)  # ~13 tries fail meanwhile (backoff)
    down = [
        r.getMessage() for r in caplog.records if "ActivityWatch" in r.getMessage() and r.levelno >= logging.WARNING
    ]
    assert len(down) == 1 and "cannot be reached" in down[0] and down_url in down[0], down
    aw = ActivityWatch(tmp_path, port=DOWN.release())  # (the page counts as in use meanwhile)
    try:
        await page.use("alpha/train.py", 2)
        await page.report("alpha/train.py", focused=False)
        used = time.time() - started
        deadline = time.monotonic() + 20  # the backoff reaches 8 intervals by now
        while time.monotonic() < deadline and not events(aw):
            await asyncio.sleep(0.2)
        await settle()
        assert abs(seconds_per(aw, "project")["Project Alpha"] - used) < 0.5, (used, events(aw))
        assert len(events(aw)) == 1
    finally:
        aw.stop()
    again = [r.getMessage() for r in caplog.records if "reach ActivityWatch" in r.getMessage()]
    assert again == [f"jupyter-helpers: heartbeats reach ActivityWatch at {down_url} again (bucket {BUCKET})"]


class Recorder(web.RequestHandler):
    """aw-server-rust's API-key check, as far as a client sees it: the Authorization header."""

    def post(self, *args: str) -> None:
        self.application.settings["seen"].append((self.request.path, self.request.headers.get("Authorization")))
        self.set_status(200)
        self.finish("{}")


RECORDER = RefusingPort()


@pytest.mark.parametrize("aw_config", [{"url": RECORDER.url, "api_key": "k3y-for-tests"}])
async def test_an_api_key_goes_as_a_bearer_token(jp_fetch, jp_serverapp) -> None:
    seen: list[tuple[str, str | None]] = []
    recorder = HTTPServer(web.Application([(r"/api/0/(.*)", Recorder)], seen=seen))
    recorder.listen(RECORDER.release(), "127.0.0.1")
    try:
        await start_extensions(jp_serverapp)
        await Page(jp_fetch, "pApiKey0001").use("alpha/train.py", 1)
        await settle()
    finally:
        recorder.stop()
    paths = [path for path, _ in seen]
    assert f"/api/0/buckets/{BUCKET}" in paths and f"/api/0/buckets/{BUCKET}/heartbeat" in paths
    assert {header for _, header in seen} == {"Bearer k3y-for-tests"}


@pytest.mark.parametrize(
    ("aw_config", "message"),
    [
        (
            {"url": "localhost:5600"},
            "c.ActivityWatch.url 'localhost:5600': expected an http:// URL such as http://127.0.0.1:5600",
        ),
        ({"interval": 0.0}, "c.ActivityWatch.interval must be 0.2 to 600 seconds, got 0.0"),
        ({"idle_after": -1.0}, "c.ActivityWatch.idle_after must be seconds > 0, got -1.0"),
        (
            {"api_key": "secret\r\nX-Evil: 1"},
            "c.ActivityWatch.api_key has characters other than printable ASCII (it travels in an HTTP header)",
        ),
        (
            {"api_key": "clé"},
            "c.ActivityWatch.api_key has characters other than printable ASCII (it travels in an HTTP header)",
        ),
    ],
)
async def test_bad_settings_are_one_line_and_no_heartbeats(jp_serverapp, caplog, message) -> None:
    """The owner read these settings at load (before the server logs to caplog): it built no
    heartbeats; reading them again shows the one line it logged."""
    await start_extensions(jp_serverapp)
    assert jp_serverapp.extension_manager.extension_points["jupyter_helpers"].app.heartbeats is None
    assert read_settings(jp_serverapp) is None
    lines = [r.getMessage() for r in caplog.records if "ActivityWatch" in r.getMessage()]
    assert lines == [f"jupyter-helpers: ActivityWatch heartbeats are off: {message}"]
    assert "secret" not in caplog.text  # a key is never echoed


@pytest.mark.parametrize("aw_config", [{"heartbeats": False}])
async def test_heartbeats_can_be_switched_off(jp_fetch, jp_serverapp, aw) -> None:
    await start_extensions(jp_serverapp)
    await Page(jp_fetch, "pSwitchOff1").use("alpha/train.py", 1)
    await settle()
    assert BUCKET not in aw.call("GET", "buckets/")


async def test_a_long_outage_keeps_a_bounded_queue_and_says_what_it_dropped(
    jp_root_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No Jupyter server needed: the heartbeats alone, an injected clock, nothing listening."""
    monkeypatch.setattr(activity, "MAX_QUEUED", 5)
    now = [0.0]
    closed = RefusingPort()
    settings = ActivityWatchSettings(url=closed.url)
    documents = Documents(str(jp_root_dir), ProjectMap(), lambda kernel_id: None)
    heartbeats = Heartbeats(settings, documents, logging.getLogger("test-heartbeats"), clock=lambda: now[0])
    for second in range(20):  # a tab switch every second: 19 stretches end, 14 more than are kept
        now[0] = float(second)
        path = "alpha/train.py" if second % 2 else "beta/notes.md"
        await heartbeats.page_reported(
            Report(f"pOutage{second % 2:04d}", second, path, True, True, 0.0, False), (), now[0]
        )
    await heartbeats.beat()
    assert len(heartbeats.activity.queue) == 5 and heartbeats.activity.queue[-1].end == 19
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [
        f"jupyter-helpers: the oldest 14 stretches of Jupyter use were dropped while ActivityWatch at "
        f"{settings.url} could not be reached",
        f"jupyter-helpers: ActivityWatch at {settings.url} cannot be reached (Connection refused); "
        "Jupyter time is kept and sent once it answers (said once)",
    ]


async def test_a_fault_after_aw_server_went_away_is_still_logged(
    jp_root_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 24: once aw-server had been unreachable, every exception in a round became a silent
    backoff that looked like "aw-server is down". An injected clock, nothing listening, then a fault."""
    now = [0.0]
    closed = RefusingPort()
    settings = ActivityWatchSettings(url=closed.url)
    documents = Documents(str(jp_root_dir), ProjectMap(), lambda kernel_id: None)
    heartbeats = Heartbeats(settings, documents, logging.getLogger("test-heartbeats"), clock=lambda: now[0])
    await heartbeats.page_reported(Report("pFault0001", 1, "alpha/train.py", True, True, 0.0, False), (), 0.0)
    await heartbeats.beat()
    assert heartbeats.reached is False

    async def broken(segments: list) -> int:
        raise ValueError("a fault of ours")

    heartbeats._send = broken  # type: ignore[method-assign]
    for second in (100.0, 1000.0):  # past each backoff
        now[0] = second
        await heartbeats.beat()
    faults = [record for record in caplog.records if record.exc_info]
    assert len(faults) == 1 and "ValueError: a fault of ours" in caplog.text, caplog.text
