"""What the presence script costs a page: load times with and without it, side by side.

    python benchmarks/page_presence.py [--runs N]

Two real Jupyter servers from one isolated home with jupyter-helpers installed, identical except
that one runs with `c.PagePresence.enabled = False` (no script, no endpoint). Headless Chromium
loads the same Notebook 7 tree page and notebook page from each, alternating A/B after a warm-up;
each figure is the median over the runs, and the ratio compares like with like. Also reported: the
page's JavaScript time (CDP ScriptDuration, steadier than wall time on a busy machine) and the
presence script's own run time (one more execution of it, timed with performance.now()).
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

NAVIGATION = """() => { const n = performance.getEntriesByType("navigation")[0];
                        return [n.domContentLoadedEventEnd, n.loadEventEnd]; }"""


def script_ms(cdp) -> float:
    """The renderer's total JavaScript time so far (CDP Performance.ScriptDuration), in ms:
    CPU spent in scripts, much less sensitive to a busy machine than wall-clock load times."""
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return metrics["ScriptDuration"] * 1000


def load(page, cdp, url: str, ready: str | None) -> tuple[float, float, float, float]:
    """(DOMContentLoaded, load, ready selector visible) in ms since navigation start, and the
    page's script time up to then (a difference: the metric may accumulate across navigations)."""
    before = script_ms(cdp)
    page.goto(url, wait_until="load")
    if ready:
        page.wait_for_selector(ready, timeout=60_000)
    shown = page.evaluate("() => performance.now()") if ready else 0.0
    dom, loaded = page.evaluate(NAVIGATION)
    after = script_ms(cdp)
    return dom, loaded, shown, after - before if after >= before else after


def spread(values: list[float]) -> str:
    quartiles = statistics.quantiles(values, n=4)
    return f"{quartiles[0]:.0f}-{quartiles[2]:.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    base = Path(tempfile.mkdtemp(prefix="jh-presence-bench-"))
    home, work = base / "home", base / "work"
    (work / "alpha").mkdir(parents=True)
    import nbformat

    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, work / "alpha" / "analysis.ipynb")
    env = isolated_env(home)
    subprocess.run([str(BIN / "jupyter-helpers"), "install"], env=env, check=True, capture_output=True)
    off_home = base / "home-off"
    subprocess.run(["cp", "-a", str(home), str(off_home)], check=True)
    (off_home / ".jupyter" / "jupyter_server_config.py").write_text("c.PagePresence.enabled = False\n")

    pages = {"tree page": ("tree", None), "notebook page": ("notebooks/alpha/analysis.ipynb", ".jp-Cell")}
    samples: dict[tuple[str, str, int], list[float]] = {}
    with (
        JupyterServer("notebook", work, env, base / "with.log") as with_script,
        JupyterServer("notebook", work, isolated_env(off_home), base / "without.log") as without,
        sync_playwright() as playwright,
    ):
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        contexts = {}
        for label, server in (("without", without), ("with", with_script)):
            context = chromium.new_context()
            page = context.new_page()
            page.goto(f"{server.url}tree?token={TOKEN}")
            cdp = context.new_cdp_session(page)
            cdp.send("Performance.enable")
            contexts[label] = (server, page, cdp)
        for run in range(args.runs + 3):  # 3 warm-up rounds, not counted
            order = ("without", "with") if run % 2 == 0 else ("with", "without")
            for name, (path, ready) in pages.items():
                for label in order:
                    server, page, cdp = contexts[label]
                    figures = load(page, cdp, server.url + path, ready)
                    if run >= 3:
                        for index, value in enumerate(figures):
                            samples.setdefault((name, label, index), []).append(value)
        _, page, _ = contexts["with"]
        page.goto(with_script.url + "tree")
        script_ms = page.evaluate("""() => {
            const s = document.querySelector('script[data-jupyter-helpers="presence"]');
            const copy = document.createElement("script"); copy.textContent = s.textContent.replace(
              "window.__jupyterHelpersPresence || ", "");
            delete window.__jupyterHelpersPresence;
            const t0 = performance.now(); document.head.appendChild(copy); return performance.now() - t0; }""")
        chromium.close()

    print(f"{args.runs} interleaved runs per figure, medians (ms since navigation start)")
    print(f"{'measure':44} {'without':>10} {'with':>10} {'ratio':>7}   spread (p25-p75) without | with")
    for name, (_, ready) in pages.items():
        for index, what in enumerate(["DOMContentLoaded", "load", f"{ready} shown", "script time (CPU)"]):
            if index == 2 and not ready:
                continue
            a = statistics.median(samples[(name, "without", index)])
            b = statistics.median(samples[(name, "with", index)])
            print(
                f"{name + ': ' + what:44} {a:10.1f} {b:10.1f} {b / a:7.3f}   "
                f"{spread(samples[(name, 'without', index)])} | {spread(samples[(name, 'with', index)])}"
            )
    print(f"{'presence script run time (one execution)':44} {'':>10} {script_ms:10.3f}")


if __name__ == "__main__":
    main()
