"""Presence end to end: real headless Chromium on a real Jupyter server (`jupyter notebook` and
`jupyter lab`, extension enabled by `jupyter-helpers install`), pages whose focus is moved for real
(focus emulation off, bring_to_front), the presence file the server writes, and cells that run in
the kernel of the notebook the page shows, sending through the real ntfy chain to the fake Telegram."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

from conftest import TOKEN as BOT_TOKEN
from support.browser import logged_in_state, record_dialogs, require_chromium
from support.fake_telegram import FakeTelegram, write_credentials
from support.jupyter_server import BIN, TOKEN, JupyterServer, isolated_env
from support.kernels import WATCHER
from support.notebooks import save_notebook
from support.readme import normal, sample
from support.waiting import wait_until

pytestmark = pytest.mark.browser
WITHOUT = os.environ.get("JUPYTER_HELPERS_TEST_WITHOUT_PRESENCE") == "1"  # to show the tests can fail
NOTEBOOKS = [
    "alpha/analysis.ipynb",
    "alpha/second.ipynb",
    "beta/model.ipynb",
    "beta/closing.ipynb",
    "beta/crash.ipynb",
    "alpha/always.ipynb",
]


@pytest.fixture(scope="module")
def fake(tmp_path_factory: pytest.TempPathFactory):
    with FakeTelegram(tmp_path_factory.mktemp("telegram")) as running:
        yield running


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, fake: FakeTelegram):
    require_chromium()
    base = tmp_path_factory.mktemp("presence")
    home, work = base / "home", base / "work"
    env = {**isolated_env(home), **fake.env()}  # kernels inherit the server's environment
    for name in NOTEBOOKS:
        save_notebook(work / name)
    write_credentials(home, BOT_TOKEN)
    if not WITHOUT:
        subprocess.run([str(BIN / "jupyter-helpers"), "install"], env=env, check=True, capture_output=True)
    else:  # pip's enabling file in the environment would load the extension all the same
        (home / ".jupyter").mkdir(parents=True)
        (home / ".jupyter" / "jupyter_server_config.py").write_text(
            'c.ServerApp.jpserver_extensions = {"jupyter_helpers": False}\n'
        )
    return {"env": env, "work": work, "base": base, "runtime": home / ".local/share/jupyter/runtime"}


@pytest.fixture(scope="module", params=["notebook", "lab"])
def server(request: pytest.FixtureRequest, site: dict):
    with JupyterServer(
        request.param, site["work"], site["env"], site["base"] / f"{request.param}.log", ready_marker=b"is running at:"
    ) as running:
        running.front_end = request.param
        yield running


@pytest.fixture(scope="module")
def login(browser, server: JupyterServer) -> dict:
    """The login cookie, as a user's first visit sets it: once per server."""
    return logged_in_state(browser, f"{server.url}tree?token={TOKEN}")


@pytest.fixture
def context(browser, login: dict):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, storage_state=login)
    yield context
    context.close()


def kernel_of(server: JupyterServer, path: str) -> str | None:
    sessions = json.loads(server.api("api/sessions")[1])
    return next((s["kernel"]["id"] for s in sessions if s["path"] == path), None)


def real_focus(page) -> None:
    """Playwright makes every page claim focus; this page tells the truth from now on."""
    page.context.new_cdp_session(page).send("Emulation.setFocusEmulationEnabled", {"enabled": False})


def open_document(context, server: JupyterServer, path: str):
    """The notebook in its front end, its kernel started, real focus on the page, user input given."""
    page = context.new_page()
    page.dialogs = record_dialogs(page)
    url = f"lab/tree/{path}?reset" if server.front_end == "lab" else f"notebooks/{path}"
    page.goto(server.url + url)
    kernel = wait_until(lambda: kernel_of(server, path), timeout=60)
    assert kernel, f"no kernel started for {path}"
    real_focus(page)
    page.bring_to_front()
    page.wait_for_selector(".jp-Cell", timeout=60_000)
    page.kernel = kernel
    return page


def give_input(page) -> None:
    page.mouse.move(300, 300)
    page.mouse.move(320, 310)


def presence(site: dict, kernel: str) -> dict | None:
    try:
        return json.loads((site["runtime"] / "jupyter-helpers-presence" / f"{kernel}.json").read_text())
    except (OSError, ValueError):
        return None


def no_pages(site: dict, kernel: str) -> bool:
    """The kernel's record is there and lists no page (every page showing it closed)."""
    return (presence(site, kernel) or {}).get("pages") == []


def only_page(site: dict, kernel: str, **expected) -> dict | None:
    """The kernel's single page record once it has the expected values."""
    data = presence(site, kernel)
    if not data or len(data["pages"]) != 1:
        return None
    record = data["pages"][0]
    return record if all(record.get(key) == value for key, value in expected.items()) else None


def test_focus_input_blur_and_close_reach_the_presence_file(context, server, site) -> None:
    page = open_document(context, server, "alpha/analysis.ipynb")
    give_input(page)
    looking = wait_until(
        lambda: (
            only_page(site, page.kernel, focused=True, visible=True, closed=False)
            if (only_page(site, page.kernel) or {}).get("last_input")
            else None
        )
    )
    assert looking, presence(site, page.kernel)
    assert time.time() - looking["last_input"] < 30 and time.time() - looking["reported"] < 30
    path = site["runtime"] / "jupyter-helpers-presence" / f"{page.kernel}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    other = context.new_page()
    other.goto(server.url + "tree")
    real_focus(other)
    other.bring_to_front()
    assert wait_until(lambda: only_page(site, page.kernel, focused=False, closed=False)), presence(site, page.kernel)

    page.bring_to_front()
    assert wait_until(lambda: only_page(site, page.kernel, focused=True)), presence(site, page.kernel)

    started = time.monotonic()
    page.close()
    assert wait_until(lambda: no_pages(site, page.kernel), timeout=5)  # a closed page leaves
    assert time.monotonic() - started < 2.5


def test_a_tab_closed_without_any_page_event_counts_as_closed(context, server, site) -> None:
    """No pagehide beacon gets through (as when a tab crashes): the websocket count drops."""
    page = open_document(context, server, "beta/crash.ipynb")
    give_input(page)
    assert wait_until(lambda: only_page(site, page.kernel, focused=True, closed=False))
    assert wait_until(lambda: json.loads(server.api(f"api/kernels/{page.kernel}")[1])["connections"] > 0)
    page.route("**/jupyter-helpers/presence**", lambda route: route.abort())
    started = time.monotonic()
    page.close(run_before_unload=False)
    assert wait_until(lambda: no_pages(site, page.kernel), timeout=5), presence(site, page.kernel)
    assert time.monotonic() - started < 2.5

    assert server.api(f"api/kernels/{page.kernel}", "DELETE")[0] == 204  # the file goes with the kernel
    assert wait_until(lambda: presence(site, page.kernel) is None, timeout=5)


def test_endpoint_refuses_requests_without_token_or_xsrf(context, server, site) -> None:
    page = open_document(context, server, "beta/model.ipynb")
    give_input(page)
    assert wait_until(lambda: only_page(site, page.kernel, focused=True))
    body = json.dumps(
        {"page": "intruder-page-1", "seq": 1, "path": "beta/model.ipynb", "focused": True, "visible": True, "idle": 0}
    ).encode()
    url = server.url + "jupyter-helpers/presence"
    for headers in ({}, {"Cookie": "; ".join(f"{c['name']}={c['value']}" for c in context.cookies())}):
        request = urllib.request.Request(url, data=body, method="POST", headers=headers)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=30)
        assert refused.value.code == 403
    # From the page itself, without the X-XSRFToken header the front ends send:
    status = page.evaluate(
        """([url, body]) => fetch(url, {method: "POST", body: body,
                              credentials: "same-origin"}).then(r => r.status)""",
        [url, body.decode()],
    )
    assert status == 403
    time.sleep(0.5)  # nothing to wait for: a refused request must change nothing
    assert [record["page"] for record in presence(site, page.kernel)["pages"]] == [only_page(site, page.kernel)["page"]]
    assert "intruder" not in json.dumps(presence(site, page.kernel))
    page.close()


def test_bad_bodies_get_400_and_no_traceback_and_write_nowhere(server, site) -> None:
    folder = site["runtime"] / "jupyter-helpers-presence"

    def listing() -> set[Path]:
        return set(folder.iterdir()) if folder.exists() else set()

    before = listing()
    log_before = server.log.read_text()
    for body in [
        b"",
        b"{",
        b"[]",
        b"\xff\xfe",
        json.dumps({"page": "x", "path": "a"}).encode(),
        json.dumps({"page": "page-00001", "path": 7}).encode(),
        json.dumps({"page": "page-00001", "path": "a", "focused": "yes"}).encode(),
        json.dumps({"page": "page-00001", "path": "a", "idle": -1}).encode(),
        b"x" * 20000,
    ]:
        status, _ = server.api("jupyter-helpers/presence", "POST", body)
        assert status == 400, body
    for path in ["../../../../tmp/evil", "/etc/passwd", "a\\..\\b"]:
        status, _ = server.api(
            "jupyter-helpers/presence",
            "POST",
            json.dumps(
                {
                    "page": "page-00002",
                    "seq": len(path),
                    "path": path,
                    "focused": True,
                    "visible": True,
                    "idle": 0,
                    "kernel": "00000000-0000-0000-0000-000000000000",
                }
            ).encode(),
        )
        assert status == 204
    time.sleep(0.5)  # let a retry of the unresolvable paths run
    log_after = server.log.read_text()[len(log_before) :]
    # (jupyter_server itself may log a traceback for a websocket a closed page left half open)
    assert "server/presence.py" not in log_after and "exception POST" not in log_after
    assert log_after.count("presence report rejected") >= 9
    assert listing() - before == set()  # no file for a path that is no session's
    assert not Path("/tmp/evil").exists() and list(site["base"].rglob("*evil*")) == []


def test_only_logged_in_pages_carry_the_script(server) -> None:
    assert b'data-jupyter-helpers="presence"' in server.api("tree")[1]
    with urllib.request.urlopen(server.url + "login", timeout=30) as response:
        assert b'data-jupyter-helpers="presence"' not in response.read()


# -- the kernel decides: cells run from the page, in the kernel of the notebook it shows ---------

LONG_CELL = "import time; time.sleep(1.5); 'slow result'"  # over `-a 1` at any load: a sleep never ends early
RUN_GAP = 0.3  # these notebooks' run gap (the default is 1 s): a run is over this long after its last cell
WATCH_LONG = f"%autonotify -a 1\n%config AutoNotify.run_gap = {RUN_GAP}"
# a cell that starts after the run gap (so the run before it is over) and waits, in the kernel, for
# that run's decision: its message queued, or its held note ready to print under this cell
CLOSED = f"print('runs closed:', {WATCHER}.wait_idle(30))"
STDOUT = "application/vnd.jupyter.stdout"  # how the front ends mark normal output (stderr: the pink box)


def write_cells(site: dict, path: str, sources: list[str]) -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, site["work"] / path)


def start_cell(page, index: int) -> str:
    """Runs cell `index` as a user does (select it, Shift+Enter); returns its prompt from before."""
    prompt = page.locator(".jp-Cell").nth(index).locator(".jp-InputPrompt")
    before = prompt.inner_text()
    prompt.click()
    page.keyboard.press("Shift+Enter")
    return before


def wait_cell(page, index: int, before: str, timeout: float = 60) -> None:
    prompt = page.locator(".jp-Cell").nth(index).locator(".jp-InputPrompt")

    def finished() -> bool:
        text = prompt.inner_text().strip()
        return text != before.strip() and "*" not in text and any(ch.isdigit() for ch in text)

    done = wait_until(finished, timeout=timeout, interval=0.1)
    assert done, f"cell {index} did not finish: {prompt.inner_text()!r}"


def run_cell(page, index: int) -> None:
    wait_cell(page, index, start_cell(page, index))


def run_messages(fake: FakeTelegram, name: str, since: int) -> list[str]:
    """Autonotify messages about notebook `name` (not %notify markers) that arrived after `since`."""
    return [text for text in fake.texts()[since:] if name in text and "marker-" not in text]


def wait_run_gap() -> None:
    """After a cell was seen finished, which the kernel saw first: the run is over once RUN_GAP
    passes without a cell (a time the product defines, so a sleep of that time, not a guess)."""
    time.sleep(RUN_GAP + 0.2)


def assert_no_run_message(page, fake: FakeTelegram, name: str, since: int, marker: str) -> None:
    """The decision is made when the run ends (RUN_GAP after its last cell): a %notify marker
    sent after that arrives after any message the run would have sent (one sender queue)."""
    wait_run_gap()
    run_cell(page, 2)  # the third cell: CLOSED, then %notify marker-...
    assert "runs closed: True" in page.locator(".jp-Cell").nth(2).locator(".jp-OutputArea").inner_text()
    assert wait_until(lambda: any(marker in text for text in fake.texts()[since:]), timeout=30), fake.texts()[since:]
    assert run_messages(fake, name, since) == []


def test_messages_go_out_only_when_nobody_is_looking(context, server, site, fake) -> None:
    name = f"watched-{server.front_end}.ipynb"
    write_cells(site, f"alpha/{name}", [WATCH_LONG, LONG_CELL, f"{CLOSED}\n%notify marker-{server.front_end}"])
    page = open_document(context, server, f"alpha/{name}")
    give_input(page)
    run_cell(page, 0)

    since = len(fake.texts())  # focused, fresh input: held
    give_input(page)
    run_cell(page, 1)
    assert_no_run_message(page, fake, name, since, f"marker-{server.front_end}")

    other = context.new_page()  # loaded before the cell starts: bringing it to front is quick
    other.goto(server.url + "tree")
    real_focus(other)
    page.bring_to_front()
    since = len(fake.texts())  # another tab in front while the cell runs: sent
    before = start_cell(page, 1)
    other.bring_to_front()
    assert len(wait_until(lambda: run_messages(fake, name, since), timeout=30)) == 1
    wait_cell(page, 1, before)

    page.bring_to_front()  # back, with input: held again
    give_input(page)
    since = len(fake.texts())
    run_cell(page, 1)
    assert_no_run_message(page, fake, name, since, f"marker-{server.front_end}")

    since = len(fake.texts())  # the page closed while the cell runs: sent
    give_input(page)
    start_cell(page, 1)
    page.close()
    assert len(wait_until(lambda: run_messages(fake, name, since), timeout=30)) == 1


def test_when_always_sends_while_the_page_is_focused(context, server, site, fake) -> None:
    name = f"always-{server.front_end}.ipynb"
    write_cells(site, f"alpha/{name}", ["%autonotify -a 1 --when always", LONG_CELL])
    page = open_document(context, server, f"alpha/{name}")
    give_input(page)
    run_cell(page, 0)
    since = len(fake.texts())
    give_input(page)
    run_cell(page, 1)
    assert only_page(site, page.kernel, focused=True, closed=False)
    assert len(wait_until(lambda: run_messages(fake, name, since), timeout=30)) == 1
    page.close()


@pytest.mark.parametrize("server", ["lab"], indirect=True)  # one page, several documents
def test_lab_reports_the_current_tab(context, server, site) -> None:
    page = open_document(context, server, "alpha/second.ipynb")
    give_input(page)
    assert wait_until(lambda: only_page(site, page.kernel, focused=True))
    page.locator(".jp-BreadCrumbs-home").click()  # open a second notebook from the file browser
    page.locator(".jp-DirListing-itemText", has_text="beta").dblclick()
    page.locator(".jp-DirListing-itemText", has_text="closing.ipynb").dblclick()
    other = wait_until(lambda: kernel_of(server, "beta/closing.ipynb"), timeout=60)
    give_input(page)
    assert wait_until(lambda: only_page(site, other, focused=True)), presence(site, other)
    assert wait_until(lambda: presence(site, page.kernel)["pages"] == []), presence(site, page.kernel)
    page.get_by_role("tab", name="second.ipynb").click()
    assert wait_until(lambda: only_page(site, page.kernel, focused=True)), presence(site, page.kernel)
    assert wait_until(lambda: presence(site, other)["pages"] == []), presence(site, other)


def test_two_pages_of_one_notebook_close_one_by_one(context, server, site) -> None:
    """Closing one of two pages leaves the websocket count above 0: its pagehide beacon alone
    takes it out, and the other page still counts."""
    name = f"alpha/twice-{server.front_end}.ipynb"
    write_cells(site, name, ["1 + 1"])
    first = open_document(context, server, name)
    second = open_document(context, server, name)
    assert first.kernel == second.kernel
    give_input(second)

    def open_pages() -> list[bool]:
        """`focused` of each page in the record (JupyterLab's second window reloads itself into a
        workspace of its own: its first load closes and leaves)."""
        data = presence(site, first.kernel) or {"pages": []}
        return sorted(record["focused"] for record in data["pages"])

    assert wait_until(lambda: open_pages() == [False, True]), presence(site, first.kernel)
    assert wait_until(lambda: json.loads(server.api(f"api/kernels/{first.kernel}")[1])["connections"] >= 2)
    first.close()
    assert wait_until(lambda: open_pages() == [True], timeout=5), json.dumps(presence(site, first.kernel))
    assert json.loads(server.api(f"api/kernels/{first.kernel}")[1])["connections"] >= 1
    second.close()
    assert wait_until(lambda: open_pages() == [], timeout=5), presence(site, first.kernel)


@pytest.mark.parametrize("server", ["notebook"], indirect=True)
def test_the_first_held_message_is_explained_once_and_the_readme_shows_the_status(context, server, site, fake) -> None:
    """A newcomer's first try: a long cell while watching it. The message is held, and the next
    cell says so, once per kernel. The README's `%autonotify` sample is this page's output."""
    name = "first-try.ipynb"
    command, *shown = sample("autonotify").splitlines()
    write_cells(site, f"alpha/{name}", [command, WATCH_LONG, LONG_CELL, CLOSED, LONG_CELL, CLOSED])
    page = open_document(context, server, f"alpha/{name}")
    since = len(fake.texts())
    for index in (0, 1, 2):
        give_input(page)
        run_cell(page, index)
    printed = page.locator(".jp-Cell").nth(0).locator(".jp-OutputArea").inner_text()
    status = [line for line in printed.splitlines() if line.strip()]
    assert [normal(line, site["base"]) for line in status] == [normal(line, site["base"]) for line in shown]
    wait_run_gap()  # the run is over: held now
    give_input(page)
    run_cell(page, 3)
    notes = page.locator(".jp-Cell").nth(3).locator(".jp-OutputArea").inner_text()
    assert "runs closed: True" in notes, notes
    assert notes.count("not sent to your phone, because you are looking at this notebook") == 1, notes
    normal_output = page.locator(".jp-Cell").nth(3).locator(f'[data-mime-type="{STDOUT}"]').all_inner_texts()
    assert "not sent to your phone" in "".join(normal_output), notes  # not in the pink box (stderr)
    # cells [1]–[3] as one run, or cell [3] alone when driving the page between cells took longer
    # than the run gap (usual with RUN_GAP; seen with the default 1 s at load 27): either way the run's note
    assert any(f"{name}: {run} finished after" in notes for run in ("cells [1]–[3]", "cells [2]–[3]", "cell [3]")), (
        notes
    )
    assert "%autonotify --when always" in notes
    for index in (4, 5):  # held again: said once per kernel
        give_input(page)
        run_cell(page, index)
        if index == 4:
            wait_run_gap()
    last = page.locator(".jp-Cell").nth(5).locator(".jp-OutputArea").inner_text()
    assert "runs closed: True" in last and "not sent to your phone" not in last, last
    assert run_messages(fake, name, since) == []


@pytest.mark.parametrize("server", ["notebook"], indirect=True)
def test_the_first_input_after_a_report_is_reported_at_once(context, server, site) -> None:
    """A page's first input waited until 2 s had passed since its last report, so
    `%autonotify --status` run right after opening a notebook said `no input yet: phone messages
    sent`. The page's clock stands still here: only a report sent at once reaches the server."""
    context.clock.install()  # the pages' timers run on a clock the test moves
    page = open_document(context, server, "alpha/second.ipynb")
    assert wait_until(lambda: only_page(site, page.kernel, focused=True)), presence(site, page.kernel)
    page.clock.pause_at(page.evaluate("Date.now()") + 10)
    other = context.new_page()
    real_focus(other)
    other.bring_to_front()
    page.clock.run_for(10)
    assert wait_until(lambda: only_page(site, page.kernel, focused=False)), presence(site, page.kernel)
    page.bring_to_front()
    page.clock.run_for(10)
    assert wait_until(lambda: only_page(site, page.kernel, focused=True)), presence(site, page.kernel)
    assert only_page(site, page.kernel)["last_input"] is None  # no input yet, and just reported
    give_input(page)
    page.clock.run_for(10)
    assert wait_until(lambda: (only_page(site, page.kernel) or {}).get("last_input"), timeout=10), presence(
        site, page.kernel
    )
    other.close()
    page.close()
