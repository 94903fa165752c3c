"""`activitywatch report` against servers that misbehave (issue 16: F6, F7, F12, F13): whatever the
server does, the report ends with a table or one line, in bounded time and memory, and talks only
to the server it was given."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_helpers.activitywatch.client import ActivityWatchServer
from jupyter_helpers.common.errors import UserError

from conftest import cli
from support.aw_server import ActivityWatch
from support.fake_aw import Quiet, history, serving
from support.processes import cli_peak_memory


@pytest.fixture
def mapped(home: Path, tmp_path: Path) -> Path:
    cli("projects", "add", str(tmp_path / "alpha"), "Project Alpha")
    cli("projects", "add", str(tmp_path / "beta"), "Project Beta")
    return home


def one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def report(url: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return cli("activitywatch", "report", "--server", url, "--host", "laptop", *args, check=False, **kwargs)


# --- F6: deeply nested JSON ------------------------------------------------------------------------

DEEP = b"[" * 100_000 + b"]" * 100_000


class Deep(Quiet):
    """A bucket list, then events nested 100,000 deep (or the bucket list itself, at /deep/)."""

    def do_GET(self) -> None:
        if self.path.startswith("/deep/"):
            self.send_body(DEEP)
        elif self.path == "/api/0/buckets/":
            self.send_body(json.dumps({"w": {"type": "currentwindow", "hostname": "laptop"}}).encode())
        else:
            self.send_body(DEEP)


@pytest.mark.parametrize("base, where", [("/deep", "/api/0/buckets/"), ("", "/api/0/buckets/w/events")])
def test_deeply_nested_json_is_one_line(mapped: Path, base: str, where: str) -> None:
    with serving(Deep) as url:
        error = one_line_error(report(url + base))
    assert f"does not answer like ActivityWatch (GET {where}: RecursionError); check --server" in error


class NotANumber(Quiet):
    """Events whose duration JSON allows and no sum survives."""

    def do_GET(self) -> None:
        if self.path == "/api/0/buckets/":
            self.send_body(json.dumps({"w": {"type": "currentwindow", "hostname": "laptop"}}).encode())
        else:
            self.send_body(
                b'[{"timestamp": "2026-11-20T08:00:00+00:00", "duration": NaN, "data": {"title": "a - Project Alpha"}}]'
            )


def test_an_event_without_a_usable_duration_is_one_line(mapped: Path) -> None:
    with serving(NotANumber) as url:
        error = one_line_error(report(url, "--since", "2026-11-20", "--until", "2026-11-20"))
    assert "ActivityWatch sent an event this report cannot read (ValueError: duration nan)" in error


# --- F7: one deadline, however slowly the answer comes ------------------------------------------------


def dripping(in_headers: bool, seconds: float = 12.0) -> type[Quiet]:
    """Sends its answer a byte every 0.1 s (the status line too, when `in_headers`), for `seconds`."""

    class Drip(Quiet):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            head = b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"
            if not in_headers:
                self.wfile.write(head)
                head = b""
            stop = time.monotonic() + seconds
            for byte in (head + b" " * 100_000)[: int(seconds * 10)]:
                if time.monotonic() > stop:
                    break
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.1)
            self.close_connection = True

    return Drip


@pytest.mark.parametrize("in_headers", [False, True], ids=["body", "headers"])
def test_a_dripping_server_meets_one_deadline(in_headers: bool) -> None:
    """Each read gets a byte well within any per-read timeout; only a total deadline ends it."""
    with serving(dripping(in_headers)) as url:
        began = time.monotonic()
        with pytest.raises(UserError) as caught:
            ActivityWatchServer(url, timeout=2).buckets()
        elapsed = time.monotonic() - began
    assert 1.9 < elapsed < 4, elapsed
    assert str(caught.value) == (
        f"ActivityWatch at {url} did not finish answering within 2 s: "
        "report a shorter period, or allow longer with --timeout SECONDS"
    )


def test_the_deadline_is_for_the_whole_report_and_can_be_set(mapped: Path) -> None:
    with serving(dripping(in_headers=False)) as url:
        began = time.monotonic()
        error = one_line_error(report(url, "--timeout", "1.5"))
        assert time.monotonic() - began < 8
    assert "did not finish answering within 1.5 s" in error
    for bad in ("-1", "nan", "inf", "1e308"):
        assert f"--timeout {float(bad):g}: give the seconds" in one_line_error(report(url, "--timeout", bad))


# --- F12: redirects -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def aw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActivityWatch]:
    server = ActivityWatch(tmp_path_factory.mktemp("aw"))
    try:
        server.insert("aw-watcher-window_laptop", "currentwindow", "laptop", [])
        yield server
    finally:
        server.stop()


def redirecting(target: str, hits: list[str]) -> type[Quiet]:
    """Redirects every request to `target` + its path (records each path); a target of "" means
    its own `/aw` prefix, which it serves from the real aw-server at `hits[0]`."""

    class Redirect(Quiet):
        def do_GET(self) -> None:
            hits.append(self.path)
            if target or not self.path.startswith("/aw/"):
                self.send_body(b"", 307, Location=f"{target or '/aw'}{self.path}")
                return
            with urllib.request.urlopen(hits[0] + self.path[3:], timeout=30) as answer:
                self.send_body(answer.read())

    return Redirect


def test_a_redirect_to_another_server_is_not_followed(mapped: Path, aw: ActivityWatch) -> None:
    """The redirect leads to a real aw-server: followed, the report would read another server than
    the one given (and send it the key)."""
    elsewhere = f"http://127.0.0.1:{aw.port}"
    hits: list[str] = []
    with serving(redirecting(elsewhere, hits)) as url:
        error = one_line_error(report(url))
    assert error == (
        f"jupyter-helpers: error: {url} redirected GET /api/0/buckets/ to "
        f"'{elsewhere}/api/0/buckets/', another server; not followed: pass ActivityWatch's own "
        "address with --server\n"
    )
    assert hits == ["/api/0/buckets/"]


def test_a_redirect_to_a_dead_server_names_the_redirect_not_the_first_address(mapped: Path) -> None:
    with serving(Quiet) as dead:
        pass  # closed: nothing listens there any more
    with serving(redirecting(dead, [])) as url:
        error = one_line_error(report(url))
    assert f"redirected GET /api/0/buckets/ to '{dead}/api/0/buckets/', another server" in error
    assert "cannot reach" not in error


def test_a_redirect_to_no_url_is_one_line(mapped: Path) -> None:
    with serving(redirecting("http://[::1", [])) as url:
        error = one_line_error(report(url))
    assert "(GET /api/0/buckets/ redirected to 'http://[::1/api/0/buckets/', which is no URL)" in error


def test_a_redirect_on_the_same_server_is_followed(mapped: Path, aw: ActivityWatch) -> None:
    hits = [f"http://127.0.0.1:{aw.port}"]
    with serving(redirecting("", hits)) as url:
        done = report(url, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["projects"] == {} and "/aw/api/0/buckets/" in hits


# --- F13: memory stays bounded, whatever the period holds -----------------------------------------------


def peak_memory(url: str, events: int) -> float:
    """Runs the report over the fake's whole history (`events` window events); checks its totals and
    returns the command's peak resident memory in MB."""
    done, megabytes = cli_peak_memory(
        "activitywatch",
        "report",
        "--server",
        url,
        "--host",
        "big",
        "--since",
        "2025-01-01",
        "--until",
        "2025-12-31",
        "--json",
        env={**os.environ, "TZ": "UTC0"},
    )
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    thirds = {"Project Alpha": (events + 2) // 3 * 30.0, "Project Beta": (events + 1) // 3 * 30.0}
    assert doc["projects"] == thirds and doc["active"] == events * 30.0
    return megabytes


def test_memory_does_not_grow_with_the_period(mapped: Path) -> None:
    """30,000 and 300,000 window events (10 and 104 days): reading the whole answer at once took
    ~230 MB more for the larger one; read a slice at a time it takes about the same."""
    with serving(history(30_000)) as small, serving(history(300_000)) as large:
        few, many = peak_memory(small, 30_000), peak_memory(large, 300_000)
    assert 10 < few and many - few < 25, (few, many)
