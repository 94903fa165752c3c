"""The title rules hold for every name and format: generated cases (hypothesis) run in real Chromium.

Two levels, both in one browser page so that hundreds of cases take seconds:
- the pure rules (templates/title_rules.js, the very file the page script includes) run in a Web
  Worker of the page, so a rule that never finishes (the page freeze of issue 16, F1) ends the case
  after a time limit and fails it, instead of hanging the test;
- the whole page script, rendered by the server's own code for a server root and format, runs in
  pages made with that config, and document.title assignments must settle on the expected title.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_helpers.common.resources import resource_path
from jupyter_helpers.server.pages import render_script
from jupyter_helpers.server.titles import ProjectTitles

pytestmark = pytest.mark.browser
CASE_TIME_LIMIT_MS = 2000

# Whitespace of every kind: what the browser's title getter collapses (ASCII), and what it keeps
# but still shows as blank (no-break, em and ideographic spaces, line separator, BOM, zero width).
ASCII_SPACE = " \t\n\r\f"
OTHER_SPACE = "\u00a0\u2003\u3000\u2028\ufeff\u200b"
JS_TRIMMED = set(ASCII_SPACE + "\u00a0\u2003\u3000\u2028\ufeff\v")  # String.prototype.trim's set, as used here
ALPHABET = ASCII_SPACE + OTHER_SPACE + "aAb-|:(1)…{}"

WORKER = """
self.onmessage = function (event) {
  var results = event.data.map(function (c) {
    var rules = jupyterHelpersTitleRules(c.format, c.names);
    var stripped = rules.strip(c.title);
    var shown = [rules.decorate(stripped, c.name)];
    for (var i = 0; i < 3; i++) { shown.push(rules.decorate(rules.strip(shown[i]), c.name)); }
    return {stripped: stripped, shown: shown};
  });
  self.postMessage(results);
};
"""

RUN_IN_WORKER = """([source, cases, limit]) => new Promise(resolve => {
  const worker = new Worker(URL.createObjectURL(new Blob([source], {type: "text/javascript"})));
  const timer = setTimeout(() => { worker.terminate(); resolve(null); }, limit);
  worker.onmessage = event => { clearTimeout(timer); worker.terminate(); resolve(event.data); };
  worker.onerror = event => { clearTimeout(timer); worker.terminate(); resolve({error: event.message}); };
  worker.postMessage(cases);
})"""


def norm(text: str) -> str:
    """What the browser's title getter shows: ASCII whitespace runs collapsed, ends stripped."""
    return re.sub(f"[{re.escape(ASCII_SPACE)}]+", " ", text).strip(" ")


def blank(name: str | None) -> bool:
    return name is None or all(char in JS_TRIMMED for char in name)


@pytest.fixture(scope="module")
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_content("<html><head><title>rules</title></head><body></body></html>")
    yield page
    context.close()


@pytest.fixture(scope="module")
def worker_source() -> str:
    return resource_path("templates", "title_rules.js").read_text() + WORKER


texts = st.text(alphabet=ALPHABET, max_size=8)
separators = st.sampled_from([" - ", " ", "  |  ", "\t", " \u2014 ", "", "-", " :: "]) | texts


@st.composite
def formats(draw) -> str:
    before, middle, after = draw(texts), draw(separators), draw(texts)
    if draw(st.booleans()):
        return before + "{title}" + middle + "{project}" + after
    return before + "{project}" + middle + "{title}" + after


@st.composite
def cases(draw) -> dict:
    """A format, the page's project names, the one it shows now (maybe blank or none) and a title
    the front end sets: free text, or one already carrying a suffix, or equal to a name."""
    fmt = draw(formats())
    names = draw(st.lists(texts | st.sampled_from([" ", "\t", "\u00a0", "A - B", "A"]), min_size=1, max_size=3))
    name = draw(st.sampled_from(names) | st.none())
    base = draw(texts)
    title = draw(
        st.sampled_from(
            [
                base,
                fmt.replace("{title}", base).replace("{project}", draw(st.sampled_from(names))),
                draw(st.sampled_from(names)),
                fmt,
            ]
        )
    )
    return {"format": fmt, "names": names, "name": name, "title": title}


def check(case: dict, result: dict) -> None:
    stripped, shown = result["stripped"], result["shown"]
    first = shown[0]
    assert first == norm(first), "shown text is not what the browser's getter returns for it"
    assert shown[-1] == shown[-2], f"the title keeps changing: {shown}"
    if blank(case["name"]):
        assert first == stripped, "a blank project name adds nothing, not even a separator"
    else:
        assert norm(case["name"]) in first, "a project name shows whole"
    assert len(stripped) <= len(norm(case["title"]))


def run_cases(page, source: str, batch: list[dict]) -> list[dict]:
    results = page.evaluate(RUN_IN_WORKER, [source, batch, CASE_TIME_LIMIT_MS])
    assert results is not None, f"the rules did not finish within {CASE_TIME_LIMIT_MS} ms for {batch!r}"
    assert "error" not in results, results
    return results


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(cases(), min_size=1, max_size=20))
def test_the_rules_finish_and_settle_for_any_name_and_format(page, worker_source: str, batch: list[dict]) -> None:
    for case, result in zip(batch, run_cases(page, worker_source, batch), strict=True):
        check(case, result)


@pytest.mark.parametrize(
    ("fmt", "name", "title", "shown"),
    [
        ("{title} {project}", " ", "a", "a"),  # F1: used to loop forever
        ("{title} - {project}", " ", "a", "a"),  # F16: used to show 'a -'
        ("{title}\t{project}", "\t\n", "a", "a"),
        ("{title} - {project}", "\u00a0", "a", "a"),
        ("{title} - {project}", "Alpha", "a - Alpha - Alpha", "a - Alpha"),
        ("{project}: {title}", "Alpha", "Alpha", "Alpha"),
        ("{title} {project}", "Alpha", "", "Alpha"),
    ],
)
def test_known_cases(page, worker_source: str, fmt: str, name: str, title: str, shown: str) -> None:
    [result] = run_cases(page, worker_source, [{"format": fmt, "names": [name], "name": name, "title": title}])
    assert result["shown"][0] == shown


# -- the whole script, rendered as the server renders it, in a page ------------------------------

SETTLE = """() => new Promise(resolve => requestAnimationFrame(() => setTimeout(() => {
  let changes = 0;
  new MutationObserver(records => { changes += records.length; })
    .observe(document.head, {childList: true, subtree: true, characterData: true});
  setTimeout(() => resolve([document.title, changes]), 50);
}, 0)))"""


def rendered_page(page, root: Path, fmt: str) -> None:
    """A notebook page of a server rooted at `root` with `fmt`, its script made by the server's own
    code, loaded as a new document (a fresh window: the script runs once per window)."""
    titles = ProjectTitles()
    titles.title_format = fmt
    titles.map_file = str(root.parent / "no-map.json")
    script = render_script("title_script.html.j2", titles.script_config(titles.project_map(), str(root), "/"))
    html = f"<html><head><title>Home</title>{script}</head><body></body></html>"
    page.route("http://titles.test/**", lambda route: route.fulfill(body=html, content_type="text/html"))
    try:
        page.goto("http://titles.test/notebooks/a.ipynb", timeout=5000)
    finally:
        page.unroute("http://titles.test/**")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    folder=texts.filter(lambda name: "/" not in name and norm(name) not in {"", ".", ".."})
    | st.sampled_from([" ", "\t", "  ", "\u00a0"]),
    fmt=formats(),
    titles=st.lists(texts, min_size=1, max_size=4),
)
def test_the_page_script_settles_for_any_root_folder_and_format(
    page, worker_source: str, tmp_path_factory, folder: str, fmt: str, titles: list[str]
) -> None:
    """The server's root folder names the project of every page (c.ProjectTitles.unmapped = 'root');
    each title the front end assigns ends as the rules say, and the page stops changing it.
    (The rules run in the worker first: a rule that never ends fails there, not in the page.)"""
    expected = [
        result["shown"][0]
        for result in run_cases(
            page,
            worker_source,
            [{"format": fmt, "names": [folder], "name": folder, "title": title} for title in titles],
        )
    ]
    rendered_page(page, tmp_path_factory.getbasetemp() / "roots" / folder, fmt)
    for title, wanted in zip(titles, expected, strict=True):
        page.evaluate("title => { document.title = title; }", title)
        shown, changes = page.wait_for_function(SETTLE, timeout=5000).json_value()
        assert changes == 0, f"the title kept changing after {title!r}"
        assert shown == wanted
        if blank(folder):
            assert shown == norm(title), "a blank root folder name adds nothing"
