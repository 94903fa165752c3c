"""ActivityWatch heartbeats end to end: headless Chromium with real focus (Playwright's focus
emulation off, tabs brought to the front) on a real Jupyter server (`jupyter lab`, which serves
Notebook 7 too; extension enabled by `jupyter-helpers install`, projects by `projects add`), its
heartbeats going to a real aw-server, read back through aw-server's REST API and the query
ActivityWatch's web UI runs for its Editor view."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from jupyter_helpers.common.editor_bucket import bucket_id

from support.aw_server import ActivityWatch
from support.browser import record_dialogs, require_chromium
from support.jupyter_server import BIN, TOKEN, JupyterServer, isolated_env
from support.notebooks import save_notebook

pytestmark = pytest.mark.browser
BUCKET = bucket_id(socket.gethostname())
IDLE_AFTER = 8
NOTEBOOKS = [
    "alpha/analysis.ipynb",
    "beta/model.ipynb",
    "alpha/idle.ipynb",
    "alpha/lab-a.ipynb",
    "beta/lab-b.ipynb",
    "beta/down.ipynb",
]
EDITOR_QUERY = [f'events = flood(query_bucket("{BUCKET}"));', 'RETURN = merge_events_by_keys(events, ["project"]);']


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    require_chromium()
    base = tmp_path_factory.mktemp("heartbeats")
    home, work = base / "home", base / "work"
    env = isolated_env(home)
    for name in NOTEBOOKS:
        save_notebook(work / name)
    for command in (
        ["install"],
        ["projects", "add", str(work / "alpha"), "Project Alpha"],
        ["projects", "add", str(work / "beta"), "Project Beta"],
    ):
        subprocess.run([str(BIN / "jupyter-helpers"), *command], env=env, check=True, capture_output=True)
    site = {"aw": ActivityWatch(base), "work": work, "base": base}
    (home / ".jupyter" / "jupyter_server_config.py").write_text(
        f"c.ActivityWatch.url = {site['aw'].api.removesuffix('/api/0/')!r}\n"
        f"c.ActivityWatch.interval = 1\nc.ActivityWatch.idle_after = {IDLE_AFTER}\n"
    )
    try:
        with JupyterServer("lab", work, env, base / "server.log", heartbeats=True) as site["server"]:
            yield site
    finally:
        site["aw"].stop()  # (the down-and-up test starts another one in its place)


@pytest.fixture
def context(browser, site: dict):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    login = context.new_page()
    login.goto(f"{site['server'].url}tree?token={TOKEN}")
    login.close()
    yield context
    context.close()


def real_focus(page) -> None:
    """Playwright makes every page claim focus; this one tells the truth until it navigates again."""
    page.context.new_cdp_session(page).send("Emulation.setFocusEmulationEnabled", {"enabled": False})


def open_page(context, site: dict, path: str, ready: str = ".jp-Cell"):
    """A page at `path` (a Jupyter URL), its focus real from now on, `ready` shown, no input given yet."""
    page = context.new_page()
    page.dialogs = record_dialogs(page)
    page.goto(site["server"].url + path)
    real_focus(page)
    page.wait_for_selector(ready, timeout=60_000)
    return page


def away(context) -> None:
    """Another tab in front (with real focus too: an emulating page leaves the others 'focused')."""
    page = context.new_page()
    real_focus(page)
    page.bring_to_front()


def use(page, seconds: float) -> tuple[float, float]:
    """The page in front, input every half second for `seconds`; the wall-clock span."""
    page.bring_to_front()
    started = time.time()
    step = 0
    while time.time() - started < seconds:
        page.mouse.move(200 + 40 * (step % 2), 300)
        step += 1
        page.wait_for_timeout(500)
    return started, time.time()


def events(aw: ActivityWatch) -> list[dict]:
    if BUCKET not in aw.call("GET", "buckets/"):
        return []
    return aw.call("GET", f"buckets/{BUCKET}/events?limit=10000")


def seconds_for(aw: ActivityWatch, site: dict, name: str) -> float:
    return sum(event["duration"] for event in events(aw) if event["data"]["file"] == str(site["work"] / name))


def ends(event: dict) -> float:
    return datetime.fromisoformat(event["timestamp"]).timestamp() + event["duration"]


def workspace_current(site: dict) -> str | None:
    workspace = json.loads(site["server"].get("lab/api/workspaces/default"))
    return workspace.get("data", {}).get("layout-restorer:data", {}).get("main", {}).get("current")


def settle() -> None:
    time.sleep(4)  # a page's last report (it keeps 2 s between reports) and a beat or two


def test_time_goes_to_the_notebook_in_front_and_nowhere_while_another_tab_is(context, site) -> None:
    aw = site["aw"]
    alpha = open_page(context, site, "notebooks/alpha/analysis.ipynb")
    beta = open_page(context, site, "notebooks/beta/model.ipynb")
    other = open_page(context, site, "tree", ready=".jp-DirListing")
    # Spans a page that kept counting after losing the front would overrun by IDLE_AFTER (8 s): the
    # 3 s margins catch that, and the other tab's spell outlasts it.
    use(alpha, 10)
    use(beta, 6)
    other_started, other_ended = use(other, IDLE_AFTER + 4)
    settle()
    alpha_seconds = seconds_for(aw, site, "alpha/analysis.ipynb")
    beta_seconds = seconds_for(aw, site, "beta/model.ipynb")
    assert abs(alpha_seconds - 10) < 3 and abs(beta_seconds - 6) < 3, events(aw)
    ours = [event for event in events(aw) if event["data"]["file"].endswith(("analysis.ipynb", "model.ipynb"))]
    assert max(map(ends, ours)) < other_started + 3, "time counted while another tab was in front"
    assert {event["data"]["language"] for event in ours} == {"python"}

    # ActivityWatch's Editor view: its query, through aw-server's query endpoint.
    now = datetime.now(UTC)
    period = f"{(now - timedelta(hours=1)).isoformat()}/{(now + timedelta(minutes=1)).isoformat()}"
    [projects] = aw.call("POST", "query/", {"timeperiods": [period], "query": EDITOR_QUERY})
    by_project = {event["data"]["project"]: event["duration"] for event in projects}
    assert set(by_project) >= {"Project Alpha", "Project Beta"}
    assert by_project["Project Alpha"] >= alpha_seconds - 0.5 and by_project["Project Beta"] >= beta_seconds - 0.5
    assert other_ended > other_started + IDLE_AFTER + 3


def test_a_page_left_without_input_stops_adding_after_idle_after(context, site) -> None:
    page = open_page(context, site, "notebooks/alpha/idle.ipynb")
    page.bring_to_front()
    page.mouse.move(300, 300)  # one input, then none for a while, the page still in front
    page.mouse.move(320, 310)
    page.wait_for_timeout(IDLE_AFTER * 1000 + 12_000)
    settle()
    assert abs(seconds_for(site["aw"], site, "alpha/idle.ipynb") - IDLE_AFTER) < 2.5, events(site["aw"])


def test_jupyterlab_tab_switches_move_the_time(context, site) -> None:
    page = open_page(context, site, "lab/tree/alpha/lab-a.ipynb?reset")
    deadline = time.time() + 30  # Lab saves its workspace a moment later
    while time.time() < deadline and workspace_current(site) != "notebook:alpha/lab-a.ipynb":
        time.sleep(0.2)
    page.goto(site["server"].url + "lab/tree/beta/lab-b.ipynb")  # Lab restores lab-a and opens lab-b (no input yet)
    real_focus(page)  # (a navigation brings the emulation back)
    page.wait_for_function("document.querySelectorAll('.jp-Cell').length >= 2", timeout=60_000)  # both loaded
    use(page, 5)  # lab-b.ipynb, the current tab
    page.get_by_role("tab", name="lab-a.ipynb").click()
    use(page, 6)
    page.get_by_role("tab", name="lab-b.ipynb").click()
    use(page, 4)
    away(context)
    settle()
    a_seconds = seconds_for(site["aw"], site, "alpha/lab-a.ipynb")
    b_seconds = seconds_for(site["aw"], site, "beta/lab-b.ipynb")
    # a switch reaches the server within ~2 s (the page checks its tab every second, and keeps 2 s between reports)
    assert abs(a_seconds - 6) < 3 and abs(b_seconds - 9) < 3, events(site["aw"])


def test_time_used_while_aw_server_was_down_arrives_when_it_is_back(context, site) -> None:
    page = open_page(context, site, "notebooks/beta/down.ipynb")
    site["aw"].stop()
    started, _ = use(page, 6)  # heartbeats fail meanwhile (the server log says so once)
    (site["base"] / "again").mkdir()
    site["aw"] = ActivityWatch(site["base"] / "again", port=site["aw"].port)  # memory storage: a fresh start
    _, ended = use(page, 3)  # (losing the 6 s while down would miss the 3 s margin twice over)
    away(context)
    deadline = time.time() + 40  # the backoff between tries has grown to 4-8 s by now
    while time.time() < deadline and seconds_for(site["aw"], site, "beta/down.ipynb") < ended - started - 3:
        time.sleep(1)
    assert abs(seconds_for(site["aw"], site, "beta/down.ipynb") - (ended - started)) < 3, events(site["aw"])
    log = site["server"].log.read_text()
    assert log.count("cannot be reached") == 1 and "heartbeats reach ActivityWatch at" in log


def log_lines(text: str) -> set[str]:
    """The extension's ActivityWatch lines, without time stamps, port and host name."""
    lines = set()
    for line in text.splitlines():
        if "jupyter-helpers:" in line and "ActivityWatch" in line:
            line = re.sub(r"^\[\w [\d-]+ [\d:.]+ ServerApp\] ", "", line.strip())
            lines.add(re.sub(r"http://127\.0\.0\.1:\d+", "URL", line).replace(socket.gethostname(), "vm"))
    return lines


def test_the_server_log_says_what_docs_time_tracking_shows(site) -> None:
    """Every log line docs/time-tracking.md shows is one the server wrote here (the modules' tests
    ran first: aw-server was up, then down, then up again)."""
    shown = log_lines((Path(__file__).parent.parent / "docs" / "time-tracking.md").read_text())
    assert len(shown) == 3
    assert shown <= log_lines(site["server"].log.read_text())


def test_nothing_but_file_project_and_language_leaves(site) -> None:
    for event in events(site["aw"]):
        assert set(event["data"]) == {"file", "project", "language"}
        assert Path(event["data"]["file"]).is_relative_to(site["work"])
