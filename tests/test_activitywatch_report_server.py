"""`jupyter-helpers activitywatch report` through the real console script against a real aw-server
seeded with window and AFK events whose per-project active time is known by construction."""

from __future__ import annotations

import http.server
import json
import os
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import run_cli
from support.aw_server import ActivityWatch

WINDOW, AFK = "currentwindow", "afkstatus"


def at(day: int, clock: str) -> datetime:
    hour, minute, *second = (int(part) for part in clock.split(":"))
    return datetime(2026, 11, day, hour, minute, *(second or [0]), tzinfo=UTC)


def window(title: str, app: str = "chrome") -> dict:
    return {"app": app, "title": title}


# Host "laptop" on 2026-11-20 (UTC). The main period is 08:00-12:00 UTC; what each event adds there:
LAPTOP_WINDOW = [
    (at(20, "06:00"), at(20, "07:00"), window("old - Project Alpha — Mozilla Firefox", "firefox")),  # before: 0
    (at(20, "07:30"), at(20, "08:10"), window("analysis - Project Alpha - Google Chrome")),  # across start: Alpha 600
    (at(20, "08:10"), at(20, "08:40:17"), window("model - Project Beta — Mozilla Firefox", "firefox")),
    # ^ straddles the 08:30-08:35 AFK spell: Beta 1817 - 300 = 1517
    (at(20, "08:40:17"), at(20, "09:00"), window("notes - Project Alphabet - Google Chrome")),  # unmatched 1183
    (at(20, "09:00"), at(20, "09:20"), window("~/work: bash", "gnome-terminal")),  # not a browser: unmatched 1200
    (at(20, "09:20"), at(20, "09:45:30"),
     window("analysis.ipynb - JupyterLab - Project Alpha and 2 more pages - Personal - Microsoft Edge", "msedge")),
    # ^ Alpha 1530
    (at(20, "10:00"), at(20, "10:30"), window("idle - Project Alpha - Google Chrome")),  # while AFK: 0
    (at(20, "11:50"), at(20, "12:20"), window("late - Project Beta - Chromium", "chromium")),  # straddles end: Beta 600
    (at(20, "21:50"), at(20, "22:20"), window("night - Project Alpha - Google Chrome")),  # outside the main period
]
LAPTOP_AFK = [
    (at(20, "07:00"), at(20, "08:30"), {"status": "not-afk"}),
    (at(20, "08:30"), at(20, "08:35"), {"status": "afk"}),
    (at(20, "08:35"), at(20, "10:00"), {"status": "not-afk"}),
    (at(20, "10:00"), at(20, "11:45"), {"status": "afk"}),
    (at(20, "11:45"), at(20, "12:30"), {"status": "not-afk"}),
    (at(20, "21:40"), at(20, "22:30"), {"status": "not-afk"}),
]
# Host "desktop": no AFK watcher, so all its window time counts.
DESKTOP_WINDOW = [(at(20, "08:00"), at(20, "11:00"), window("big - Project Alpha - Google Chrome"))]

PERIOD = ["--since", "2026-11-20T08:00:00+00:00", "--until", "2026-11-20T12:00:00+00:00"]
TRUTH = {"Project Alpha": 600 + 1530, "Project Beta": 1517 + 600}
ACTIVE = 600 + 1517 + 1183 + 1200 + 1530 + 600


@pytest.fixture(scope="module")
def aw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ActivityWatch]:
    server = ActivityWatch(tmp_path_factory.mktemp("aw"))
    try:
        server.insert("aw-watcher-window_laptop", WINDOW, "laptop", LAPTOP_WINDOW)
        server.insert("aw-watcher-afk_laptop", AFK, "laptop", LAPTOP_AFK)
        server.insert("aw-watcher-window_desktop", WINDOW, "desktop", DESKTOP_WINDOW)
        yield server
    finally:
        server.stop()


@pytest.fixture
def mapped(home: Path, tmp_path: Path) -> Path:
    """Alpha and Beta mapped; `Project Alphabet` deliberately not."""
    run_cli("projects", "add", str(tmp_path / "alpha"), "Project Alpha")
    run_cli("projects", "add", str(tmp_path / "beta"), "Project Beta")
    return home


def fixed_zone(hours: int) -> str:
    """A POSIX TZ value for UTC+hours that needs no time-zone database (`<+02>-2`)."""
    return f"<{hours:+03d}>{-hours:+d}"


def report(aw: ActivityWatch, *args: str, tz: str = "UTC0", check: bool = True):
    return run_cli("activitywatch", "report", "--server", f"http://127.0.0.1:{aw.port}", *args, check=check,
                   env={**os.environ, "TZ": tz})


def table_rows(text: str) -> dict[str, list[str]]:
    """Row name -> its cells, from the printed table (names here have no double spaces)."""
    return {line.split("  ")[0]: line.split("  ")[1:] for line in text.splitlines()[2:] if "  " in line}


def cells(row: list[str]) -> list[str]:
    return [cell.strip() for cell in row if cell.strip()]


def test_report_equals_the_truth_in_json_and_table(aw: ActivityWatch, mapped: Path) -> None:
    doc = json.loads(report(aw, *PERIOD, "--host", "laptop", "--json").stdout)
    assert doc == {"since": "2026-11-20T08:00:00+00:00", "until": "2026-11-20T12:00:00+00:00", "host": "laptop",
                   "projects": {"Project Alpha": float(TRUTH["Project Alpha"]),
                                "Project Beta": float(TRUTH["Project Beta"])},
                   "active": float(ACTIVE)}
    assert list(doc["projects"]) == ["Project Alpha", "Project Beta"]  # most time first

    done = report(aw, *PERIOD, "--host", "laptop")
    assert done.stderr == ""
    rows = table_rows(done.stdout)
    # 2130 s = 35:30 -> 0:36; 2117 s = 35:17 -> 0:35; shares of 6630 active seconds.
    assert cells(rows["Project Alpha"]) == ["0:36", "32%", "█" * 20]
    assert cells(rows["Project Beta"]) == ["0:35", "32%", "█" * 20]  # 2117/2130 of 40 halves rounds to 40
    assert cells(rows["matched"]) == ["1:11", "64%"]  # 4247 s
    assert cells(rows["active"]) == ["1:51", "100%"]  # 6630 s
    assert "Project Alphabet" not in done.stdout and "laptop" in done.stdout.splitlines()[0]


def test_other_host_and_a_host_without_afk_watcher(aw: ActivityWatch, mapped: Path) -> None:
    done = report(aw, *PERIOD, "--host", "desktop", "--json")
    assert json.loads(done.stdout)["projects"] == {"Project Alpha": 10800.0}
    assert done.stderr.count("\n") == 1 and "no AFK-watcher" in done.stderr


def test_by_day_splits_at_local_midnight(aw: ActivityWatch, mapped: Path) -> None:
    """In UTC+2 the two local days 2026-11-20 and -21 run from 19th 22:00 to 21st 22:00 UTC; the
    night event (21:50-22:20 UTC) crosses local midnight: 600 s on the 20th, 1200 s on the 21st.
    The whole day also takes in the 07:30 event from 07:30 (AFK data starts at 07:00: 2400 s) and
    the late Beta event up to 12:20 (1800 s); the 06:00 event has no not-afk span: 0."""
    args = ("--since", "2026-11-20", "--until", "2026-11-21", "--host", "laptop", "--by", "day")
    doc = json.loads(report(aw, *args, "--json", tz=fixed_zone(2)).stdout)
    day20 = {"Project Alpha": 2400.0 + 1530 + 600, "Project Beta": 1517.0 + 1800}
    assert doc["since"] == "2026-11-20T00:00:00+02:00" and doc["until"] == "2026-11-22T00:00:00+02:00"
    assert doc["days"] == {"2026-11-20": day20, "2026-11-21": {"Project Alpha": 1200.0}}
    assert doc["projects"] == {"Project Alpha": 5730.0, "Project Beta": 3317.0}
    assert doc["active"] == 2400 + 1517 + 1183 + 1200 + 1530 + 1800 + 600 + 1200

    rows = table_rows(report(aw, *args, tz=fixed_zone(2)).stdout)
    assert cells(rows["project"])[:3] == ["2026-11-20", "2026-11-21", "total"]
    assert cells(rows["Project Alpha"])[:3] == ["1:16", "0:20", "1:36"]  # 4530, 1200, 5730 s
    assert cells(rows["Project Beta"])[:3] == ["0:55", "-", "0:55"]  # 3317 s
    assert cells(rows["active"])[:3] == ["2:51", "0:20", "3:11"]  # 10230, 1200, 11430 s


def test_default_host_and_today(aw: ActivityWatch, mapped: Path) -> None:
    """This machine's hostname and today's period, in a zone where it is now about noon (so local
    midnight is hours away from the events, ten minutes that end ten minutes ago)."""
    now = datetime.now(UTC)
    offset = (12 - now.hour + 12) % 24 - 12
    host = socket.gethostname()
    aw.insert(f"aw-watcher-window_{host}", WINDOW, host,
              [(now - timedelta(minutes=20), now - timedelta(minutes=10), window("x - Project Beta - Google Chrome"))])
    aw.insert(f"aw-watcher-afk_{host}", AFK, host,
              [(now - timedelta(minutes=30), now - timedelta(minutes=5), {"status": "not-afk"})])
    doc = json.loads(report(aw, "--json", tz=fixed_zone(offset)).stdout)
    assert doc["host"] == host and doc["projects"] == {"Project Beta": 600.0} and doc["active"] == 600.0
    since = datetime.fromisoformat(doc["since"])
    assert since.utcoffset() == timedelta(hours=offset) and (since.hour, since.minute) == (0, 0)
    assert datetime.fromisoformat(doc["until"]) >= now.replace(microsecond=0)  # the report counts whole seconds


def test_empty_period_prints_an_empty_table_and_says_so(aw: ActivityWatch, mapped: Path) -> None:
    done = report(aw, "--since", "2026-11-10", "--until", "2026-11-10", "--host", "laptop")
    assert "no active time recorded for host laptop in this period" in done.stdout
    assert "project" in done.stdout and "Project Alpha" not in done.stdout
    doc = json.loads(report(aw, "--since", "2026-11-10", "--until", "2026-11-10", "--host", "laptop",
                            "--json").stdout)
    assert doc["projects"] == {} and doc["active"] == 0


def one_line_error(done) -> str:
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def test_unknown_host_lists_the_known_ones(aw: ActivityWatch, mapped: Path) -> None:
    error = one_line_error(report(aw, *PERIOD, "--host", "nosuch", check=False))
    listed = error.split("hosts with window data: ")[1].split(" (pick one")[0].split(", ")
    assert "'nosuch'" in error and {"desktop", "laptop"} <= set(listed) and "nosuch" not in listed


@pytest.mark.parametrize("when", ["yesterdy", "2026-13-01", "7x", "0d", "2026-11-20T25:00"])
def test_bad_when_is_one_line(aw: ActivityWatch, mapped: Path, when: str) -> None:
    error = one_line_error(report(aw, "--since", when, check=False))
    assert f"--since {when!r}" in error and "today, yesterday" in error


def test_since_after_until_is_one_line(aw: ActivityWatch, mapped: Path) -> None:
    error = one_line_error(report(aw, "--since", "2026-11-21", "--until", "2026-11-20", check=False))
    assert "must come before --until" in error


def test_no_projects_mapped_is_one_line(aw: ActivityWatch, home: Path) -> None:
    assert "no projects mapped" in one_line_error(report(aw, check=False))


def test_dead_server_is_one_line(mapped: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        done = run_cli("activitywatch", "report", "--server", f"http://127.0.0.1:{port}", check=False)
    error = one_line_error(done)
    assert f"cannot reach ActivityWatch at http://127.0.0.1:{port}" in error and "--server" in error


@pytest.mark.parametrize("status, body, expected", [
    (404, b"", "(GET /api/0/buckets/ gave HTTP 404)"),
    (200, b"<html>Jupyter</html>", "(GET /api/0/buckets/: JSONDecodeError)"),
    (200, b'["a list"]', "(no bucket list at /api/0/buckets/)"),
])
def test_a_server_that_is_not_activitywatch_is_one_line(mapped: Path, status: int, body: bytes, expected: str) -> None:
    class Other(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), Other) as other:
        threading.Thread(target=other.serve_forever, daemon=True).start()
        try:
            done = run_cli("activitywatch", "report", "--server", f"http://127.0.0.1:{other.server_port}", check=False)
        finally:
            other.shutdown()
    assert f"does not answer like ActivityWatch {expected}" in one_line_error(done)


def test_a_server_url_that_is_not_http_is_one_line(mapped: Path) -> None:
    error = one_line_error(run_cli("activitywatch", "report", "--server", "localhost:5600", check=False))
    assert "--server 'localhost:5600': expected an http:// URL" in error
