"""`jupyter-helpers activitywatch report` through the real console script against a real aw-server
seeded with window and AFK events, and with Jupyter's own bucket filled through aw-server's
heartbeat endpoint exactly as the server extension fills it, whose active time per project (and
file) is known by construction."""

from __future__ import annotations

import http.server
import json
import os
import re
import shlex
import socket
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jupyter_helpers.activitywatch.client import ActivityWatchServer
from jupyter_helpers.activitywatch.periods import Period, day_edges
from jupyter_helpers.activitywatch.report import build_report, project_matcher
from jupyter_helpers.activitywatch.rules import query_snippet
from jupyter_helpers.common.editor_bucket import BUCKET_TYPE, CLIENT, bucket_id
from jupyter_helpers.common.errors import UserError

from conftest import cli, run_cli
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
    (
        at(20, "09:20"),
        at(20, "09:45:30"),
        window("analysis.ipynb - JupyterLab - Project Alpha and 2 more pages - Personal - Microsoft Edge", "msedge"),
    ),
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

# Jupyter's own bucket (common/editor_bucket.py): a heartbeat every 10 s while a page is in use,
# pulsetime 15, so each stretch below becomes one event. Host "studio" also runs window and AFK
# watchers (whose titles would say otherwise); host "wayland" has Jupyter's bucket alone.
ALPHA_NB = {"file": "/home/me/work/alpha/analysis.ipynb", "project": "Project Alpha", "language": "python"}
ALPHA_MD = {"file": "/home/me/work/alpha/notes.md", "project": "Project Alpha", "language": "markdown"}
BETA_NB = {"file": "/home/me/work/beta/model.ipynb", "project": "Project Beta", "language": "python"}
UNMAPPED = {"file": "/home/me/scratch/try.ipynb", "project": "scratch", "language": "python"}
STRETCHES = [
    (at(20, "07:55"), at(20, "08:20"), ALPHA_NB),  # across the period's start: 1200 s inside
    (at(20, "08:20"), at(20, "08:32"), BETA_NB),  # 720 s, through the window watcher's AFK spell below
    (at(20, "08:40"), at(20, "08:45"), ALPHA_MD),  # 300 s
    (at(20, "09:00"), at(20, "09:02"), UNMAPPED),  # 120 s under the name of the folder Jupyter started in
    (at(20, "11:55"), at(20, "12:05"), BETA_NB),  # across the end: 300 s inside
]
JUPYTER_TRUTH = {"Project Alpha": 1500.0, "Project Beta": 1020.0, "scratch": 120.0}
JUPYTER_FILES = {ALPHA_NB["file"]: 1200.0, BETA_NB["file"]: 1020.0, ALPHA_MD["file"]: 300.0, UNMAPPED["file"]: 120.0}
STUDIO_WINDOW = [
    (at(20, "08:00"), at(20, "12:00"), window("x - Project Beta - Google Chrome")),
    (at(20, "21:00"), at(20, "21:30"), window("evening - Project Alpha - Google Chrome")),
]
STUDIO_AFK = [
    (at(20, "08:30"), at(20, "08:35"), {"status": "afk"}),
    (at(20, "20:00"), at(20, "23:00"), {"status": "not-afk"}),
]


def beat(aw: ActivityWatch, host: str) -> None:
    """Fills `aw-watcher-jupyter_<host>` the way the server extension does: the bucket as it
    creates it, then heartbeats."""
    aw.create_bucket(bucket_id(host), BUCKET_TYPE, host, client=CLIENT)
    for start, end, data in STRETCHES:
        when = start
        while when <= end:
            aw.heartbeat(bucket_id(host), when, data, pulsetime=15)
            when += timedelta(seconds=10)


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
        server.insert("aw-watcher-window_studio", WINDOW, "studio", STUDIO_WINDOW)
        server.insert("aw-watcher-afk_studio", AFK, "studio", STUDIO_AFK)
        beat(server, "studio")
        beat(server, "wayland")
        yield server
    finally:
        server.stop()


@pytest.fixture
def mapped(home: Path, tmp_path: Path) -> Path:
    """Alpha and Beta mapped; `Project Alphabet` deliberately not."""
    cli("projects", "add", str(tmp_path / "alpha"), "Project Alpha")
    cli("projects", "add", str(tmp_path / "beta"), "Project Beta")
    return home


def fixed_zone(hours: int) -> str:
    """A POSIX TZ value for UTC+hours that needs no time-zone database (`<+02>-2`)."""
    return f"<{hours:+03d}>{-hours:+d}"


def report(aw: ActivityWatch, *args: str, tz: str = "UTC0", check: bool = True):
    """The installed command in a time zone of its own (TZ)."""
    return run_cli(
        "activitywatch",
        "report",
        "--server",
        f"http://127.0.0.1:{aw.port}",
        *args,
        check=check,
        env={**os.environ, "TZ": tz},
    )


def table_rows(text: str) -> dict[str, list[str]]:
    """Row name -> its cells, from the printed table (names here have no double spaces)."""
    return {line.split("  ")[0]: line.split("  ")[1:] for line in text.splitlines()[2:] if "  " in line}


def cells(row: list[str]) -> list[str]:
    return [cell.strip() for cell in row if cell.strip()]


def test_report_equals_the_truth_in_json_and_table(aw: ActivityWatch, mapped: Path) -> None:
    doc = json.loads(report(aw, *PERIOD, "--host", "laptop", "--json").stdout)
    assert doc == {
        "since": "2026-11-20T08:00:00+00:00",
        "until": "2026-11-20T12:00:00+00:00",
        "host": "laptop",
        "source": "window-titles",
        "buckets": ["aw-watcher-window_laptop", "aw-watcher-afk_laptop"],
        "projects": {"Project Alpha": float(TRUTH["Project Alpha"]), "Project Beta": float(TRUTH["Project Beta"])},
        "active": float(ACTIVE),
    }
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
    assert done.stdout.splitlines()[1] == (
        "from window titles (aw-watcher-window_laptop) with the project rules, while aw-watcher-afk_laptop says not-afk"
    )


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
    aw.insert(
        f"aw-watcher-window_{host}",
        WINDOW,
        host,
        [(now - timedelta(minutes=20), now - timedelta(minutes=10), window("x - Project Beta - Google Chrome"))],
    )
    aw.insert(
        f"aw-watcher-afk_{host}",
        AFK,
        host,
        [(now - timedelta(minutes=30), now - timedelta(minutes=5), {"status": "not-afk"})],
    )
    doc = json.loads(report(aw, "--json", tz=fixed_zone(offset)).stdout)
    assert doc["host"] == host and doc["projects"] == {"Project Beta": 600.0} and doc["active"] == 600.0
    since = datetime.fromisoformat(doc["since"])
    assert since.utcoffset() == timedelta(hours=offset) and (since.hour, since.minute) == (0, 0)
    assert datetime.fromisoformat(doc["until"]) >= now.replace(microsecond=0)  # the report counts whole seconds


def test_empty_period_prints_an_empty_table_and_says_so(aw: ActivityWatch, mapped: Path) -> None:
    done = report(aw, "--since", "2026-11-10", "--until", "2026-11-10", "--host", "laptop")
    assert "no active time recorded for host laptop in this period" in done.stdout
    assert "project" in done.stdout and "Project Alpha" not in done.stdout
    doc = json.loads(report(aw, "--since", "2026-11-10", "--until", "2026-11-10", "--host", "laptop", "--json").stdout)
    assert doc["projects"] == {} and doc["active"] == 0


def one_line_error(done) -> str:
    assert done.returncode == 2 and done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def test_unknown_host_lists_the_known_ones(aw: ActivityWatch, mapped: Path) -> None:
    error = one_line_error(report(aw, *PERIOD, "--host", "nosuch", check=False))
    listed = error.split("hosts with data: ")[1].split(" (pick one")[0].split(", ")
    assert "'nosuch' (no aw-watcher-jupyter_nosuch, no window watcher)" in error
    assert {"desktop", "laptop", "studio", "wayland"} <= set(listed) and "nosuch" not in listed


@pytest.mark.parametrize("when", ["yesterdy", "2026-13-01", "7x", "0d", "2026-11-20T25:00"])
def test_bad_when_is_one_line(aw: ActivityWatch, mapped: Path, when: str) -> None:
    error = one_line_error(report(aw, "--since", when, check=False))
    assert f"--since {when!r}" in error and "today, yesterday" in error


def test_since_after_until_is_one_line(aw: ActivityWatch, mapped: Path) -> None:
    error = one_line_error(report(aw, "--since", "2026-11-21", "--until", "2026-11-20", check=False))
    assert "must come before --until" in error


def test_no_projects_mapped_is_one_line_for_window_titles(aw: ActivityWatch, home: Path) -> None:
    assert "no projects mapped" in one_line_error(report(aw, *PERIOD, "--host", "laptop", check=False))


def test_dead_server_is_one_line(mapped: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        done = cli("activitywatch", "report", "--server", f"http://127.0.0.1:{port}", check=False)
    error = one_line_error(done)
    assert f"cannot reach ActivityWatch at http://127.0.0.1:{port}" in error and "--server" in error


@pytest.mark.parametrize(
    "status, body, expected",
    [
        (404, b"", "(GET /api/0/buckets/ gave HTTP 404)"),
        (200, b"<html>Jupyter</html>", "(GET /api/0/buckets/: JSONDecodeError)"),
        (200, b'["a list"]', "(no bucket list at /api/0/buckets/)"),
    ],
)
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
        threading.Thread(target=other.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        try:
            done = cli("activitywatch", "report", "--server", f"http://127.0.0.1:{other.server_port}", check=False)
        finally:
            other.shutdown()
    assert f"does not answer like ActivityWatch {expected}" in one_line_error(done)


@pytest.mark.parametrize(
    "url, problem",
    [
        ("localhost:5600", ""),
        ("http://[::1", "Invalid IPv6 URL; "),
        ("http://127.0.0.1:99999", "Port out of range 0-65535; "),
    ],
)
def test_a_server_url_that_is_not_http_is_one_line(mapped: Path, url: str, problem: str) -> None:
    error = one_line_error(cli("activitywatch", "report", "--server", url, check=False))
    assert f"--server {url!r}: {problem}expected an http:// URL" in error


# --- Jupyter's own bucket -------------------------------------------------------------------------


def test_jupyter_bucket_gives_exact_time_per_project_and_file(aw: ActivityWatch, mapped: Path) -> None:
    """Host studio has window titles too (saying Beta all morning, with an AFK spell): the report
    takes Jupyter's bucket, sums it without the AFK filter, and says so."""
    doc = json.loads(report(aw, *PERIOD, "--host", "studio", "--json").stdout)
    assert doc["source"] == "jupyter" and doc["buckets"] == ["aw-watcher-jupyter_studio"]
    assert doc["projects"] == JUPYTER_TRUTH and doc["active"] == sum(JUPYTER_TRUTH.values())
    assert list(doc["projects"]) == ["Project Alpha", "Project Beta", "scratch"]

    files = json.loads(report(aw, *PERIOD, "--host", "studio", "--by", "file", "--json").stdout)
    assert files["files"] == JUPYTER_FILES and "projects" not in files

    done = report(aw, *PERIOD, "--host", "studio")
    assert done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[1] == "from Jupyter (aw-watcher-jupyter_studio): time with the document's page in focus and in use"
    rows = table_rows(done.stdout)
    assert cells(rows["Project Alpha"]) == ["0:25", "57%", "█" * 20]  # 1500 of 2640 s
    assert cells(rows["Project Beta"]) == ["0:17", "39%", "█" * 13 + "▌"]  # 1020 s: 27 halves of 40
    assert cells(rows["active"]) == ["0:44", "100%"] and "matched" not in rows


def test_jupyter_files_per_day(aw: ActivityWatch, mapped: Path) -> None:
    doc = json.loads(report(aw, *PERIOD, "--host", "studio", "--by", "file", "--by", "day", "--json").stdout)
    assert doc["days"] == {"2026-11-20": JUPYTER_FILES}
    rows = table_rows(report(aw, *PERIOD, "--host", "studio", "--by", "file", "--by", "day").stdout)
    assert cells(rows[ALPHA_NB["file"]])[:3] == ["0:20", "0:20", "45%"]


def test_window_titles_when_jupyter_has_nothing_in_the_period(aw: ActivityWatch, mapped: Path) -> None:
    evening = ["--since", "2026-11-20T20:00:00+00:00", "--until", "2026-11-20T23:00:00+00:00", "--host", "studio"]
    doc = json.loads(report(aw, *evening, "--json").stdout)
    assert doc["source"] == "window-titles" and doc["projects"] == {"Project Alpha": 1800.0}
    assert "--by file needs Jupyter's own bucket aw-watcher-jupyter_laptop" in one_line_error(
        report(aw, *PERIOD, "--host", "laptop", "--by", "file", check=False)
    )


def test_jupyter_alone_reports_without_any_window_watcher_or_map(aw: ActivityWatch, home: Path) -> None:
    """Wayland: no aw-watcher-window, no AFK watcher, no project map; an empty period is an empty table."""
    done = report(aw, *PERIOD, "--host", "wayland", "--json")
    assert done.stderr == "" and json.loads(done.stdout)["projects"] == JUPYTER_TRUTH
    empty = report(aw, "--since", "2026-11-10", "--until", "2026-11-10", "--host", "wayland")
    assert "no active time recorded for host wayland" in empty.stdout and empty.stderr == ""


def test_webui_editor_query_sees_the_same_projects(aw: ActivityWatch, mapped: Path) -> None:
    """aw-webui's Editor view merges the bucket's events by project (editorActivityQuery): over a
    whole day (the Python aw-server's query does not cut events at the period's edges) the report
    shows what ActivityWatch's own UI shows."""
    query = [
        f'events = flood(query_bucket("{bucket_id("studio")}"));',
        'events = merge_events_by_keys(events, ["project"]);',
        "RETURN = events;",
    ]
    merged = aw.call(
        "POST", "query/", {"timeperiods": ["2026-11-20T00:00:00+00:00/2026-11-21T00:00:00+00:00"], "query": query}
    )[0]
    doc = json.loads(report(aw, "--since", "2026-11-20", "--until", "2026-11-20", "--host", "studio", "--json").stdout)
    assert (
        {event["data"]["project"]: event["duration"] for event in merged}
        == doc["projects"]
        == {"Project Alpha": 1800.0, "Project Beta": 1320.0, "scratch": 120.0}
    )


def test_matcher_agrees_with_activitywatch_categorize(aw: ActivityWatch) -> None:
    """aw-server's own categorize (query2, the rules `export --query` prints) picks the same project
    for every title as the report, including titles that two rules match."""
    names = sorted(["Beta", "Alpha - Beta", "Alpha", "a.b (c)"])
    titles = [
        "x - Alpha - Beta - Google Chrome",
        "x - Beta - Alpha",
        "x - Alpha and 2 more pages - Edge",
        "x - a.b (c) — Mozilla Firefox",
        "x - aXb (c)",
        "x - Alphabet",
        "x - BETA",
    ]
    aw.add_events("aw-watcher-window_categorize", WINDOW, [{"title": title} for title in titles])
    expected = {
        event["data"]["title"]: event["data"]["$category"]
        for event in aw.categorized("aw-watcher-window_categorize", query_snippet(names, []))
    }
    match = project_matcher(names)
    assert {title: [match(title)] if match(title) else ["Uncategorized"] for title in titles} == expected
    assert match("x - Alpha - Beta - Google Chrome") == "Beta"  # the case two rules match


# --- the API key (aw-server-rust's opt-in Bearer token) -------------------------------------------


class KeyedProxy:
    """aw-server behind a door that wants `Authorization: Bearer <key>`, as aw-server-rust with a
    key does: 401 without it, else the real server's answer. Records every Authorization seen."""

    def __init__(self, aw: ActivityWatch, key: str) -> None:
        seen: list[str | None] = []
        self.seen = seen

        class Door(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                seen.append(self.headers.get("Authorization"))
                if self.headers.get("Authorization") != f"Bearer {key}":
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with urllib.request.urlopen(f"http://127.0.0.1:{aw.port}{self.path}", timeout=30) as answer:
                    body = answer.read()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Door)
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> KeyedProxy:
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_api_key_from_the_jupyter_config_is_sent_as_bearer(aw: ActivityWatch, mapped: Path) -> None:
    with KeyedProxy(aw, "s3cret") as door:
        refused = run_cli("activitywatch", "report", *PERIOD, "--host", "studio", "--server", door.url, check=False)
        assert (
            "refused the report (GET /api/0/buckets/ gave HTTP 401): set its API key as "
            "c.ActivityWatch.api_key" in one_line_error(refused)
        )
        (mapped / ".jupyter").mkdir(exist_ok=True)
        (mapped / ".jupyter" / "jupyter_server_config.py").write_text(
            f"c.ActivityWatch.url = {door.url!r}\nc.ActivityWatch.api_key = 's3cret'\n"
        )
        done = run_cli("activitywatch", "report", *PERIOD, "--host", "studio", "--json")  # url from the config too
        assert json.loads(done.stdout)["projects"] == JUPYTER_TRUTH
        assert door.seen[0] is None and set(door.seen[1:]) == {"Bearer s3cret"}


def test_api_key_goes_only_to_the_configured_server(aw: ActivityWatch, mapped: Path) -> None:
    with KeyedProxy(aw, "s3cret") as door, KeyedProxy(aw, "other") as elsewhere:
        (mapped / ".jupyter").mkdir(exist_ok=True)
        (mapped / ".jupyter" / "jupyter_server_config.json").write_text(
            json.dumps({"ActivityWatch": {"url": door.url, "api_key": "s3cret"}})
        )
        one_line_error(
            run_cli("activitywatch", "report", *PERIOD, "--host", "studio", "--server", elsewhere.url, check=False)
        )
        assert elsewhere.seen == [None] and door.seen == []


# --- reading a slice at a time --------------------------------------------------------------------


def test_slices_are_halved_until_each_answer_fits_a_page(aw: ActivityWatch) -> None:
    """With pages of 2 events, the laptop's day is read in slices of at most 2 events per bucket
    that together cover the day and every event, and the report comes out the same."""
    server = ActivityWatchServer(f"http://127.0.0.1:{aw.port}", page=2)
    day = (at(20, "00:00").timestamp(), at(21, "00:00").timestamp())
    buckets = ["aw-watcher-window_laptop", "aw-watcher-afk_laptop"]
    read = list(server.slices(buckets, [day]))
    assert len(read) > 5 and all(len(events) <= 2 for _, found in read for events in found.values())
    edges = [span for span, _ in read]
    assert edges[0][0] == day[0] and edges[-1][1] == day[1]
    assert all(left[1] == right[0] for left, right in zip(edges, edges[1:], strict=False))
    assert {event["id"] for _, found in read for event in found[buckets[0]]} == {
        event["id"] for event in aw.call("GET", f"buckets/{buckets[0]}/events")
    }

    period = Period(at(20, "08:00"), at(20, "12:00"))
    paged, _ = build_report(
        server.buckets(), server, "laptop", period, ["Project Alpha", "Project Beta"], day_edges(period, UTC)
    )
    assert dict(paged.tally.rows) == TRUTH and paged.tally.active == ACTIVE


def test_a_burst_does_not_slow_the_rest_of_the_period(aw: ActivityWatch) -> None:
    """Three events within 1.5 s (more than a page of 2) make the slices that small there; the rest
    of the week is read in slices that grow again, not in 1.5 s steps (400,000 requests)."""
    start = at(23, "00:00")
    burst = [
        (start + timedelta(seconds=i / 2), start + timedelta(seconds=i / 2 + 0.4), window(f"b{i}")) for i in range(3)
    ]
    later = [
        (start + timedelta(days=day), start + timedelta(days=day, minutes=5), window(f"d{day}")) for day in (2, 4, 6)
    ]
    aw.insert("aw-watcher-window_burst", WINDOW, "burst", burst + later)
    server = ActivityWatchServer(f"http://127.0.0.1:{aw.port}", timeout=60, page=2)
    read = list(
        server.slices(["aw-watcher-window_burst"], [(start.timestamp(), (start + timedelta(days=7)).timestamp())])
    )
    assert len(read) < 100
    assert len({event["id"] for _, found in read for event in found["aw-watcher-window_burst"]}) == 6


def test_more_than_a_page_within_one_second_is_one_line(aw: ActivityWatch) -> None:
    when = at(22, "10:00")
    aw.insert(
        "aw-watcher-window_crowded",
        WINDOW,
        "crowded",
        [(when, when + timedelta(seconds=1), window(f"t{i}")) for i in range(3)],
    )
    server = ActivityWatchServer(f"http://127.0.0.1:{aw.port}", page=2)
    with pytest.raises(UserError, match="holds more than 2 events within one second of 2026-11-22T10:00"):
        list(server.slices(["aw-watcher-window_crowded"], [(when.timestamp(), when.timestamp() + 86400)]))


# --- the documentation's samples ------------------------------------------------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs" / "activitywatch-report.md"


def doc_samples() -> list[tuple[str, str]]:
    """(command line, what it prints) for every code block in the page that starts with
    `$ [TZ=zone] jupyter-helpers activitywatch report`."""
    blocks = re.findall(r"```\n(\$ .*?)```", DOCS.read_text(), re.S)
    return [tuple(block[2:].split("\n", 1)) for block in blocks if "jupyter-helpers activitywatch report" in block]


def test_docs_show_what_the_report_prints(aw: ActivityWatch, mapped: Path) -> None:
    samples = doc_samples()
    assert len(samples) >= 9
    for command, printed in samples:
        zone = re.match(r"TZ=(\S+) ", command)
        words = shlex.split(command[zone.end() if zone else 0 :])
        assert words[:3] == ["jupyter-helpers", "activitywatch", "report"], command
        done = report(aw, *words[3:], tz=zone.group(1) if zone else "UTC0", check=False)
        assert done.stdout + done.stderr == printed, command


def test_help_names_both_activitywatch_commands(home: Path) -> None:
    """`jupyter-helpers --help` once described `activitywatch` as rules only (issue 19)."""
    overview = " ".join(cli("--help").stdout.split())
    assert "activitywatch ActivityWatch: time per project (report), category rules (export)" in overview
    report_help = " ".join(cli("activitywatch", "--help").stdout.split())
    assert "report active time per project or file, read from your running ActivityWatch" in report_help


@pytest.mark.parametrize(
    "setting, expected",
    [
        (
            "c.ActivityWatch.api_key = 'a\\nb'",
            "c.ActivityWatch.api_key in {} has characters other than printable ASCII",
        ),
        ("c.ActivityWatch.api_key = 42", "c.ActivityWatch.api_key in {} must be a string, not int"),
        ("c.ActivityWatch.url = ", "cannot load {} (SyntaxError: "),
    ],
)
def test_unusable_activitywatch_settings_are_one_line(
    aw: ActivityWatch, mapped: Path, setting: str, expected: str
) -> None:
    config = mapped / ".jupyter" / "jupyter_server_config.py"
    config.parent.mkdir(exist_ok=True)
    config.write_text(setting + "\n")
    assert expected.format(config) in one_line_error(report(aw, *PERIOD, "--host", "studio", check=False))
