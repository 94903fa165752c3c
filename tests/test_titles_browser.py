"""Per-project window titles, read from a real headless Chromium on a real Jupyter server that
serves Notebook 7, JupyterLab 4 and nbclassic, with the extension enabled by `jupyter-helpers
install` and the map written by `jupyter-helpers projects add`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from support.aw_server import ActivityWatch
from support.browser import logged_in_state, record_dialogs, require_chromium, settled_title
from support.jupyter_server import BIN, TOKEN, JupyterServer, isolated_env
from support.notebooks import save_notebook

pytestmark = pytest.mark.browser
EVIL_PROJECT = "</script><script>alert(1)</script>"
EVIL_FOLDER = "evil<img src=x onerror=alert(2)>"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    """A home with work/alpha, work/beta, work/other (unmapped) and the escaping case."""
    require_chromium()
    base = tmp_path_factory.mktemp("titles")
    home, work = base / "home", base / "work"
    env = isolated_env(home)
    for name in [
        "alpha/analysis.ipynb",
        "alpha/rename-me.ipynb",
        "beta/model.ipynb",
        "beta/same/analysis.ipynb",
        "other/misc.ipynb",
        f"{EVIL_FOLDER}/x.ipynb",
    ]:
        save_notebook(work / name)
    (work / "alpha" / "train.py").write_text("print('training')\n")
    (work / "alpha" / "report.html").write_text("<html><head><title>Mine</title></head><body>as is</body></html>")

    def cli(*args: str) -> None:
        subprocess.run([str(BIN / "jupyter-helpers"), *args], env=env, check=True, capture_output=True)

    if os.environ.get("JUPYTER_HELPERS_TEST_WITHOUT_TITLES") != "1":  # to show the tests can fail
        cli("install")
    else:  # pip's enabling file in the environment would load the extension all the same
        (home / ".jupyter").mkdir(parents=True, exist_ok=True)
        (home / ".jupyter" / "jupyter_server_config.py").write_text(
            'c.ServerApp.jpserver_extensions = {"jupyter_helpers": False}\n'
        )
    cli("projects", "add", str(work / "alpha"), "Project Alpha")
    cli("projects", "add", str(work / "beta"), "Project Beta")
    cli("projects", "add", str(work / EVIL_FOLDER), EVIL_PROJECT)
    return {"env": env, "work": work, "base": base}


@pytest.fixture(scope="module", params=["notebook", "lab"])
def server(request: pytest.FixtureRequest, site: dict):
    """The server as users start it: `jupyter notebook` and `jupyter lab` (each serves all three
    front ends, Notebook 7, JupyterLab and nbclassic)."""
    with JupyterServer(
        request.param,
        site["work"],
        site["env"],
        site["base"] / f"{request.param}.log",
        ready_marker=b"jupyter-helpers: "
        if os.environ.get("JUPYTER_HELPERS_TEST_WITHOUT_TITLES") != "1"
        else b"is running at:",
    ) as running:
        yield running


@pytest.fixture(scope="module")
def login(browser, server: JupyterServer) -> dict:
    return logged_in_state(browser, f"{server.url}tree?token={TOKEN}")


@pytest.fixture
def page(browser, login: dict):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, storage_state=login)
    page = context.new_page()
    page.dialogs = record_dialogs(page)
    yield page
    context.close()


def open_title(page, server: JupyterServer, path: str, expected: str) -> str:
    page.goto(server.url + path)
    return settled_title(page, expected)


def assert_shows(page, server: JupyterServer, path: str, expected: str) -> None:
    assert open_title(page, server, path, expected) == expected


def test_notebook7_tree_pages(page, server) -> None:
    assert_shows(page, server, "tree", "Home - work")
    assert_shows(page, server, "tree/alpha", "Home - Project Alpha")


def test_notebook7_documents_from_two_projects_and_an_unmapped_folder(page, server) -> None:
    assert_shows(page, server, "notebooks/alpha/analysis.ipynb", "analysis - Project Alpha")
    assert_shows(page, server, "notebooks/beta/model.ipynb", "model - Project Beta")
    assert_shows(page, server, "notebooks/other/misc.ipynb", "misc - work")
    assert_shows(page, server, "edit/alpha/train.py", "train.py - Project Alpha")
    assert page.evaluate("window.__jupyterHelpers.documentPath()") == "alpha/train.py"


def test_notebook7_rename_through_the_ui_keeps_one_suffix(page, server, site) -> None:
    assert_shows(page, server, "notebooks/alpha/rename-me.ipynb", "rename-me - Project Alpha")
    page.locator("#jp-title h1").click()
    dialog_input = page.locator(".jp-Dialog input")
    dialog_input.fill(f"renamed-{server.port}.ipynb")
    dialog_input.press("Enter")
    expected = f"renamed-{server.port} - Project Alpha"
    assert settled_title(page, expected) == expected
    assert f"renamed-{server.port}.ipynb" in page.url
    (site["work"] / "alpha" / f"renamed-{server.port}.ipynb").rename(site["work"] / "alpha" / "rename-me.ipynb")


def lab_title(name: str, project: str) -> re.Pattern:
    """Lab's own title is `name - JupyterLab`, or `name (n) - JupyterLab` with n documents open."""
    return re.compile(re.escape(name) + r"( \(\d+\))? - JupyterLab - " + re.escape(project))


def test_jupyterlab_documents_and_tab_switch(page, server) -> None:
    alpha = lab_title("analysis.ipynb", "Project Alpha")
    beta = lab_title("model.ipynb", "Project Beta")
    page.goto(server.url + "lab/tree/alpha/analysis.ipynb?reset")
    assert alpha.fullmatch(settled_title(page, alpha))
    page.locator(".jp-BreadCrumbs-home").click()  # the file browser, as a user opens a second one
    page.locator(".jp-DirListing-itemText", has_text="beta").dblclick()
    page.locator(".jp-DirListing-itemText", has_text="model.ipynb").dblclick()
    assert beta.fullmatch(settled_title(page, beta))
    page.get_by_role("tab", name="analysis.ipynb").click()
    assert alpha.fullmatch(settled_title(page, alpha))
    page.get_by_role("tab", name="model.ipynb").click()
    title = settled_title(page, beta)
    assert beta.fullmatch(title) and title.count("Project") == 1
    assert page.evaluate("window.__jupyterHelpers.documentPath()") == "beta/model.ipynb"


def test_nbclassic_tree_and_notebook(page, server) -> None:
    assert_shows(page, server, "nbclassic/tree", "Home - work")
    expected = "model - Jupyter Notebook - Project Beta"
    assert_shows(page, server, "nbclassic/notebooks/beta/model.ipynb", expected)


def test_pages_before_login_show_no_project_and_the_users_404_does(browser, server) -> None:
    context = browser.new_context()
    page = context.new_page()
    before_login = {}
    for path in ["login", "no/such/page"]:
        page.goto(server.url + path)
        page.wait_for_load_state("load")
        before_login[path] = (page.title(), page.locator("script[data-jupyter-helpers]").count())
    page.goto(f"{server.url}tree?token={TOKEN}")
    page.goto(server.url + "no/such/page")
    logged_in_404 = settled_title(page, re.compile(r".+ - work"))
    context.close()
    assert all(title and "work" not in title and scripts == 0 for title, scripts in before_login.values()), before_login
    assert logged_in_404.endswith(" - work") and logged_in_404.count(" - work") == 1, logged_in_404


def test_names_from_disk_stay_inert_text(page, server) -> None:
    expected = f"x - {EVIL_PROJECT}"
    assert_shows(page, server, f"notebooks/{EVIL_FOLDER}/x.ipynb", expected)
    assert page.dialogs == []
    assert page.evaluate("document.querySelectorAll('head script:not([src])').length") >= 1


def test_files_api_and_nbconvert_are_left_alone(server, site) -> None:
    report = site["work"] / "alpha" / "report.html"
    assert server.get("files/alpha/report.html") == report.read_bytes()
    assert b"data-jupyter-helpers" not in server.get("api/contents/alpha/analysis.ipynb")
    assert b"data-jupyter-helpers" not in server.get("nbconvert/html/alpha/analysis.ipynb?download=false")
    assert b"data-jupyter-helpers" in server.get("tree")


BROWSER_SUFFIXES = [" — Mozilla Firefox", " - Google Chrome", " and 2 more pages - Personal - Microsoft Edge", ""]


def test_activitywatch_rules_categorize_the_titles_the_browser_showed(page, server, site, tmp_path) -> None:
    """Titles read from Chromium, dressed as window and web-tab events, categorized by a real
    aw-server with the rules `jupyter-helpers activitywatch export --query` prints."""
    shown = {
        "Project Alpha": open_title(page, server, "notebooks/alpha/analysis.ipynb", "analysis - Project Alpha"),
        "Project Beta": open_title(page, server, "notebooks/beta/model.ipynb", "model - Project Beta"),
        "work": open_title(page, server, "notebooks/other/misc.ipynb", "misc - work"),
    }
    assert shown["Project Alpha"].endswith(" - Project Alpha") and shown["Project Beta"].endswith(" - Project Beta")
    snippet = subprocess.run(
        [str(BIN / "jupyter-helpers"), "activitywatch", "export", "--query"],
        env=site["env"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    lookalikes = ["notes - Project Alphabet", "Project Alpha", "analysis - JupyterLab"]

    aw = ActivityWatch(tmp_path)
    try:
        window, web = [], []
        for project, title in shown.items():
            for suffix in BROWSER_SUFFIXES:
                window.append({"app": "firefox.exe", "title": title + suffix, "expect": project})
            web.append({"url": server.url, "title": title, "audible": False, "incognito": False, "expect": project})
        for title in lookalikes:
            window.append({"app": "chrome.exe", "title": title + " - Google Chrome", "expect": None})
        aw.add_events("aw-watcher-window_tests", "currentwindow", window)
        aw.add_events("aw-watcher-web-chrome_tests", "web.tab.current", web)
        results = [
            event
            for bucket in ("aw-watcher-window_tests", "aw-watcher-web-chrome_tests")
            for event in aw.categorized(bucket, snippet)
        ]
    finally:
        aw.stop()
    assert len(results) == len(window) + len(web)
    for event in results:
        expected = event["data"]["expect"]
        mapped = expected in ("Project Alpha", "Project Beta")
        category = ["Work", "Jupyter", expected] if mapped else ["Uncategorized"]
        assert event["data"]["$category"] == category, event["data"]["title"]


@pytest.mark.parametrize("server", ["lab"], indirect=True)
def test_jupyterlab_same_name_in_two_projects_follows_the_current_tab(page, server) -> None:
    """Both tabs say `analysis.ipynb`, so the title names both: the current one decides."""
    alpha, beta = lab_title("analysis.ipynb", "Project Alpha"), lab_title("analysis.ipynb", "Project Beta")
    page.goto(server.url + "lab/tree/alpha/analysis.ipynb?reset")
    assert alpha.fullmatch(settled_title(page, alpha))
    page.locator(".jp-BreadCrumbs-home").click()
    page.locator(".jp-DirListing-itemText", has_text="beta").dblclick()
    page.locator(".jp-DirListing-itemText", has_text="same").dblclick()
    page.locator(".jp-DirListing-itemText", has_text="analysis.ipynb").dblclick()
    assert beta.fullmatch(settled_title(page, beta))
    assert page.evaluate("window.__jupyterHelpers.documentPath()") == "beta/same/analysis.ipynb"
    page.get_by_role("tab", name="analysis.ipynb").first.click()
    assert alpha.fullmatch(settled_title(page, alpha))
    assert page.evaluate("window.__jupyterHelpers.documentPath()") == "alpha/analysis.ipynb"


SAMPLE_TITLES = """(() => {
  const title = Object.getOwnPropertyDescriptor(Document.prototype, "title").get;
  window.__titleSamples = [];
  setInterval(() => window.__titleSamples.push(title.call(document)), 20);
})();"""


def workspace_current(server: JupyterServer) -> str | None:
    workspace = json.loads(server.get("lab/api/workspaces/default"))
    return workspace.get("data", {}).get("layout-restorer:data", {}).get("main", {}).get("current")


def wait_for(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


@pytest.mark.parametrize("server", ["lab"], indirect=True)
def test_jupyterlab_restoring_two_projects_never_shows_a_wrong_project(browser, server, login: dict) -> None:
    """Lab reloads with tabs of two projects open: the title (sampled every 20 ms across the
    reloads) never puts one project's name after the other's document."""
    documents = {
        "analysis.ipynb": ("alpha/analysis.ipynb", "Project Alpha"),
        "model.ipynb": ("beta/model.ipynb", "Project Beta"),
    }
    shown = re.compile(r"(analysis\.ipynb|model\.ipynb)(?: \(\d+\))? - JupyterLab - (.+)")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, storage_state=login)
    context.add_init_script(SAMPLE_TITLES)
    page = context.new_page()
    page.dialogs = record_dialogs(page)
    page.goto(server.url + "lab/tree/alpha/analysis.ipynb?reset")
    settled_title(page, lab_title("analysis.ipynb", "Project Alpha"))
    page.locator(".jp-BreadCrumbs-home").click()
    page.locator(".jp-DirListing-itemText", has_text="beta").dblclick()
    page.locator(".jp-DirListing-itemText", has_text="model.ipynb").dblclick()
    samples: list[str] = []
    current = "model.ipynb"
    for _ in range(4):
        path, project = documents[current]
        assert lab_title(current, project).fullmatch(settled_title(page, lab_title(current, project)))
        restores = f"notebook:{path}"
        # Lab saves its workspace debounced, and later still on a loaded machine (seen: over 20 s at load 12)
        saved = wait_for(lambda: workspace_current(server) == restores, timeout=30)  # noqa: B023 (used right here)
        if not saved:  # the click came before Lab's restore ended, and its LayoutRestorer drops such a
            # change ("save() was called prematurely", seen with three test workers): click again
            page.get_by_role("tab", name=next(name for name in documents if name != current)).click()
            page.get_by_role("tab", name=current).click()
            saved = wait_for(lambda: workspace_current(server) == restores, timeout=60)  # noqa: B023
        assert saved, f"Lab's saved workspace still says {workspace_current(server)!r}, not {restores!r}"
        samples += page.evaluate("window.__titleSamples")
        page.reload()
        assert lab_title(current, project).fullmatch(settled_title(page, lab_title(current, project)))
        current = "analysis.ipynb" if current == "model.ipynb" else "model.ipynb"
        page.get_by_role("tab", name=current).click()
    samples += page.evaluate("window.__titleSamples")
    context.close()
    named = [match.groups() for match in map(shown.fullmatch, samples) if match]
    wrong = Counter(f"{name} - {project}" for name, project in named if project != documents[name][1])
    assert not wrong, f"{sum(wrong.values())} of {len(samples)} samples: {wrong}"
    assert {name for name, _ in named} == set(documents)  # the right suffix did appear for both
    assert len(samples) > 200


WHITESPACE_NAMES = {"two": "Two  Spaces", "tab": "Tab\there", "newline": "New\nLine"}


@pytest.fixture(scope="module")
def whitespace_server(tmp_path_factory: pytest.TempPathFactory):
    """Names and a format the browser's title getter collapses (runs of spaces, tab, newline),
    given through c.ProjectTitles, which no CLI normalises; the root's own name has two spaces."""
    require_chromium()
    base = tmp_path_factory.mktemp("whitespace")
    home, work = base / "home", base / "work  dir"
    env = isolated_env(home)
    for folder in WHITESPACE_NAMES:
        save_notebook(work / folder / "a.ipynb")
    subprocess.run([str(BIN / "jupyter-helpers"), "install"], env=env, check=True, capture_output=True)
    projects = {str(work / folder): name for folder, name in WHITESPACE_NAMES.items()}
    (home / ".jupyter" / "jupyter_server_config.py").write_text(
        f"c.ProjectTitles.projects = {projects!r}\nc.ProjectTitles.title_format = '{{title}}  |  {{project}}'\n"
    )
    with JupyterServer("notebook", work, env, base / "server.log", ready_marker=b"jupyter-helpers: ") as running:
        yield running


@pytest.fixture(scope="module")
def whitespace_login(browser, whitespace_server: JupyterServer) -> dict:
    return logged_in_state(browser, f"{whitespace_server.url}tree?token={TOKEN}")


RESPONSIVE = "() => new Promise(resolve => setTimeout(() => resolve(true), 50))"
TITLE_CHANGES = """() => new Promise(resolve => {
  let changes = 0;
  const inTitle = node => node && (node.nodeName === "TITLE" ||
                                   (node.parentNode && node.parentNode.nodeName === "TITLE"));
  const observer = new MutationObserver(records => { changes += records.filter(r => inTitle(r.target)).length; });
  observer.observe(document.head, {childList: true, subtree: true, characterData: true});
  setTimeout(() => { observer.disconnect(); resolve(changes); }, 1000);
})"""


@pytest.mark.parametrize(
    "path, expected",
    [
        ("tree", "Home | work dir"),
        ("notebooks/two/a.ipynb", "a | Two Spaces"),
        ("notebooks/tab/a.ipynb", "a | Tab here"),
        ("notebooks/newline/a.ipynb", "a | New Line"),
        ("lab/tree/two/a.ipynb?reset", "a.ipynb - JupyterLab | Two Spaces"),
        ("nbclassic/notebooks/newline/a.ipynb", "a - Jupyter Notebook | New Line"),
    ],
)
def test_whitespace_in_names_and_format_converges(
    browser, whitespace_server, whitespace_login: dict, path: str, expected: str
) -> None:
    """The page loads, shows the suffix once (as the browser collapses it) and stays responsive:
    the script never fights the title getter's whitespace collapsing."""
    context = browser.new_context(storage_state=whitespace_login)
    page = context.new_page()
    page.dialogs = record_dialogs(page)
    try:
        page.goto(whitespace_server.url + path, timeout=30_000)
        assert settled_title(page, expected) == expected
        page.wait_for_function(RESPONSIVE, timeout=5_000)  # a timer still gets its turn
        assert page.evaluate(TITLE_CHANGES) <= 5  # no title rewriting loop, not even a slow one
        assert page.title() == expected
    finally:
        context.close()


def test_a_blank_root_folder_name_adds_nothing_and_the_page_stays_live(browser, tmp_path: Path) -> None:
    """Issue 16 F1: a server started in a folder named " " (unmapped, so the root's name is the
    project) with a format that separates with whitespace froze every page. (More names and formats,
    the default one included: test_title_rules.py.)"""
    home, work = tmp_path / "home", tmp_path / "work" / " "
    env = isolated_env(home)
    save_notebook(work / "a.ipynb")
    subprocess.run([str(BIN / "jupyter-helpers"), "install"], env=env, check=True, capture_output=True)
    (home / ".jupyter" / "jupyter_server_config.py").write_text("c.ProjectTitles.title_format = '{title} {project}'\n")
    with JupyterServer("notebook", work, env, tmp_path / "server.log", ready_marker=b"jupyter-helpers: ") as server:
        context = browser.new_context()
        page = context.new_page()
        try:
            page.goto(f"{server.url}tree?token={TOKEN}", timeout=30_000)
            page.goto(server.url + "notebooks/a.ipynb", timeout=30_000)
            assert settled_title(page, "a") == "a"
            page.wait_for_function(RESPONSIVE, timeout=5_000)
        finally:
            context.close()
