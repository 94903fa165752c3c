"""What the title script costs a Jupyter page: the same pages with and without it, side by side.

    python benchmarks/page_titles.py [--runs N]

Two real Jupyter servers on 127.0.0.1 over the same folder, both with jupyter-helpers installed and a
project mapped, one with its server extension disabled, and one headless Chromium. For each page (Notebook 7 tree and
notebook, JupyterLab with a notebook) it loads the page alternately from each server (the order
flips every round; two warm-up rounds are not counted), each time in a fresh tab, and takes medians:

- load: navigation start -> the load event (the script runs inline in <head>, so this is where
  its parse and run cost would show);
- ready: navigation start -> the front end's own title is on screen (the app has started);
- script: the page's JavaScript CPU time up to ready (Chromium's ScriptDuration metric);
- set title: one `document.title = ...` by the page once it is ready (mean of 200), which with
  the script goes through its setter (strip, find the document, decorate).
And, once per page, the script's own start-up cost measured alone: its text run 50 times in fresh
same-origin frames of the ready page (parse, run, install its observers and hooks).

The ratio column is the median of the per-round ratios (with / without in the same round), which
cancels most of the drift of a shared, noisy machine; the two medians are shown beside it.

The presence helper extends the script later: this is the baseline to compare against.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.browser import CHROMIUM, LAUNCH_ARGS  # noqa: E402
from support.jupyter_server import BIN, TOKEN, JupyterServer, isolated_env  # noqa: E402

PAGES = {  # page -> JavaScript condition: the front end has put its own title up
    "Notebook 7 tree": ("tree", "document.title.startsWith('Home')"),
    "Notebook 7 notebook": ("notebooks/alpha/analysis.ipynb", "document.title.startsWith('analysis')"),
    "JupyterLab notebook": ("lab/tree/alpha/analysis.ipynb?reset", "document.title.startsWith('analysis.ipynb')"),
}
METRICS = ("load", "ready", "script", "set title")
SET_TITLE = """() => {
  const title = document.title, start = performance.now();
  for (let i = 0; i < 200; i++) { document.title = title; }
  return (performance.now() - start) / 200;
}"""


SCRIPT_ALONE = """async () => {
  const text = document.querySelector("script[data-jupyter-helpers]").textContent;
  const times = [];
  for (let i = 0; i < 50; i++) {
    const frame = document.createElement("iframe");
    frame.srcdoc = "<html><head><title>x</title></head><body></body></html>";
    await new Promise(resolve => { frame.onload = resolve; document.body.appendChild(frame); });
    const start = performance.now();
    frame.contentWindow.eval(text);
    times.push(performance.now() - start);
    if (frame.contentWindow.document.title === "x") { throw new Error("the script did not run"); }
    frame.remove();
  }
  times.sort((a, b) => a - b);
  return times[25];
}"""


def write_notebook(path: Path) -> None:
    import nbformat

    path.parent.mkdir(parents=True, exist_ok=True)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)


def measure(context, server: JupyterServer, path: str, ready: str, with_script: bool) -> dict[str, float]:
    """One load of `path` in a fresh tab: milliseconds to load and to ready, script CPU ms, and
    the cost of one title assignment."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Performance.enable")
    page.goto(server.url + path, wait_until="load", timeout=60_000)
    ready_at = page.wait_for_function(f"() => ({ready}) && performance.now()", polling=10, timeout=60_000).json_value()
    load_at = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventStart")
    metrics = {metric["name"]: metric["value"] for metric in cdp.send("Performance.getMetrics")["metrics"]}
    if page.locator("script[data-jupyter-helpers]").count() != int(with_script):
        raise SystemExit(f"{server.url}{path}: the title script is {'missing' if with_script else 'present'}")
    result = {
        "load": load_at,
        "ready": ready_at,
        "script": metrics["ScriptDuration"] * 1e3,
        "set title": page.evaluate(SET_TITLE),
    }
    if with_script:
        result["script alone"] = page.evaluate(SCRIPT_ALONE)
    page.close()
    return result


def start_servers(base: Path) -> dict[str, JupyterServer]:
    work = base / "work"
    write_notebook(work / "alpha" / "analysis.ipynb")
    servers = {}
    for variant in ("without", "with"):  # both installed alike (kernels too); one server lacks the extension
        home = base / f"home-{variant}"
        env = isolated_env(home)
        for args in (["install"], ["projects", "add", str(work / "alpha"), "Project Alpha"]):
            subprocess.run([str(BIN / "jupyter-helpers"), *args], env=env, check=True, capture_output=True)
        if variant == "without":  # (pip's own enabling file in the environment would still load it)
            (home / ".jupyter" / "jupyter_server_config.py").write_text(
                'c.ServerApp.jpserver_extensions = {"jupyter_helpers": False}\n'
            )
        marker = b"jupyter-helpers: " if variant == "with" else b"is running at:"
        servers[variant] = JupyterServer("lab", work, env, base / f"{variant}.log", ready_marker=marker)
    return servers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="counted loads per page and variant (default 15)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        servers = start_servers(Path(tmp))
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            contexts = {}
            for variant, server in servers.items():
                contexts[variant] = browser.new_context(viewport={"width": 1280, "height": 800})
                contexts[variant].new_page().goto(f"{server.url}tree?token={TOKEN}")  # log in (cookie)
            print(f"{'page':22} {'measure':12} {'without':>11} {'with':>11} {'ratio':>7}   ({args.runs} rounds)")
            for label, (path, ready) in PAGES.items():
                samples = {variant: {metric: [] for metric in METRICS} for variant in servers}
                ratios: dict[str, list[float]] = {metric: [] for metric in METRICS}
                alone = []
                for round_number in range(args.runs + 2):
                    order = ("without", "with") if round_number % 2 == 0 else ("with", "without")
                    results = {
                        variant: measure(contexts[variant], servers[variant], path, ready, variant == "with")
                        for variant in order
                    }
                    if round_number < 2:  # the first two rounds warm caches and the servers
                        continue
                    alone.append(results["with"]["script alone"])
                    for metric in METRICS:
                        for variant in servers:
                            samples[variant][metric].append(results[variant][metric])
                        ratios[metric].append(results["with"][metric] / results["without"][metric])
                for metric in METRICS:
                    without = statistics.median(samples["without"][metric])
                    with_script = statistics.median(samples["with"][metric])
                    ratio = statistics.median(ratios[metric])
                    print(f"{label:22} {metric:12} {without:9.3f}ms {with_script:9.3f}ms {ratio:7.3f}")
                print(f"{label:22} {'script alone':12} {'':>11} {statistics.median(alone):9.3f}ms")
        finally:
            browser.close()
            for server in servers.values():
                server.stop()


if __name__ == "__main__":
    main()
