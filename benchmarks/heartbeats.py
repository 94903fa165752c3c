"""What ActivityWatch heartbeats cost the Jupyter server and its pages: on vs off, side by side.

    python benchmarks/heartbeats.py [--rounds N] [--window SECONDS] [--pages 50]

Two real Jupyter servers from one isolated home with jupyter-helpers installed, identical except
that one runs with `c.ActivityWatch.heartbeats = False`; the other sends to a real aw-server
(defaults: a beat every 10 s). Headless Chromium drives the pages. Rows:

- server CPU while one notebook is in use (a page in front, input every half second): the
  server process's own CPU (utime + stime from /proc) over each window, the two servers measured
  one after the other in alternating order (A B, B A, ...);
- the notebook page's load (navigation timing), loaded alternately from each server:
  heartbeats add nothing to pages (no script of their own), so this should show no cost;
- server CPU with 50 text-file pages open (nbclassic's editor; Playwright's focus emulation left
  on, so every page claims focus and reports every 10 s: the most reports a server gets), one of
  them in use; one server at a time, in A B B A blocks.

Each figure is the median over the rounds; the ratio compares on with off.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from support.aw_server import ActivityWatch  # noqa: E402
from support.browser import CHROMIUM, LAUNCH_ARGS  # noqa: E402
from support.jupyter_server import BIN, TOKEN, JupyterServer, isolated_env  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
NAVIGATION = """() => { const n = performance.getEntriesByType("navigation")[0]; return n.loadEventEnd; }"""


def cpu_seconds(pid: int) -> float:
    """The process's own CPU time so far (not its children's: kernels are not the server)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def keep_busy(page, seconds: float) -> None:
    """Input into `page` every half second for `seconds`."""
    started, step = time.monotonic(), 0
    while time.monotonic() - started < seconds:
        page.mouse.move(200 + 40 * (step % 2), 300)
        step += 1
        page.wait_for_timeout(500)


def median_row(name: str, off: list[float], on: list[float], unit: str) -> str:
    a, b = statistics.median(off), statistics.median(on)
    ratio = f"{b / a:7.3f}" if a else "      -"
    spread = f"{min(off):.0f}-{max(off):.0f} | {min(on):.0f}-{max(on):.0f}"
    return f"{name:52} {a:10.1f} {b:10.1f} {ratio}   {unit}; spread {spread}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--window", type=float, default=30.0, help="seconds per CPU measurement")
    parser.add_argument("--pages", type=int, default=50)
    args = parser.parse_args()
    import nbformat
    from playwright.sync_api import sync_playwright

    base = Path(tempfile.mkdtemp(prefix="jh-heartbeats-bench-"))
    home, work = base / "home", base / "work"
    (work / "alpha").mkdir(parents=True)
    (work / "notes").mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, work / "alpha" / "analysis.ipynb")
    for number in range(args.pages):
        (work / "notes" / f"n{number:02d}.py").write_text(f"# note {number}\n")
    env = isolated_env(home)
    for command in (["install"], ["projects", "add", str(work / "alpha"), "Project Alpha"]):
        subprocess.run([str(BIN / "jupyter-helpers"), *command], env=env, check=True, capture_output=True)
    off_home = base / "home-off"
    subprocess.run(["cp", "-a", str(home), str(off_home)], check=True)
    (off_home / ".jupyter" / "jupyter_server_config.py").write_text("c.ActivityWatch.heartbeats = False\n")
    aw = ActivityWatch(base)
    (home / ".jupyter" / "jupyter_server_config.py").write_text(
        f"c.ActivityWatch.url = {aw.api.removesuffix('/api/0/')!r}\n"
    )

    cpu: dict[tuple[str, str], list[float]] = {}
    loads: dict[tuple[str, str], list[float]] = {}
    try:
        with (
            JupyterServer("notebook", work, isolated_env(off_home), base / "off.log") as off,
            JupyterServer("notebook", work, env, base / "on.log", heartbeats=True) as on,
            sync_playwright() as playwright,
        ):
            servers = {"off": off, "on": on}
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
            pages = {}
            for label, server in servers.items():
                context = chromium.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                page.goto(f"{server.url}tree?token={TOKEN}")
                page.goto(server.url + "notebooks/alpha/analysis.ipynb")
                page.wait_for_selector(".jp-Cell", timeout=60_000)
                pages[label] = (context, page)

            print(f"one notebook in use: {args.rounds} rounds of {args.window:g} s per server", file=sys.stderr)
            for run in range(args.rounds):
                for label in ("off", "on") if run % 2 == 0 else ("on", "off"):
                    _, page = pages[label]
                    page.bring_to_front()
                    before = cpu_seconds(servers[label].process.pid)
                    keep_busy(page, args.window)
                    cpu.setdefault(("one", label), []).append((cpu_seconds(servers[label].process.pid) - before) * 1000)

            print("page loads", file=sys.stderr)
            for run in range(2 * args.rounds + 2):  # 2 warm-up rounds, not counted
                for label in ("off", "on") if run % 2 == 0 else ("on", "off"):
                    _, page = pages[label]
                    page.goto(servers[label].url + "notebooks/alpha/analysis.ipynb", wait_until="load")
                    page.wait_for_selector(".jp-Cell", timeout=60_000)
                    if run >= 2:
                        loads.setdefault(("load", label), []).append(page.evaluate(NAVIGATION))

            # 50 pages per server, one server at a time (two servers' worth of pages at once is more
            # than a 2-core machine loads), in A B B A blocks; nbclassic's editor, the lightest page
            # that shows a document and carries both page scripts.
            for block, label in enumerate(("off", "on", "on", "off")):
                server = servers[label]
                context = chromium.new_context(viewport={"width": 1280, "height": 800})
                first = context.new_page()
                first.goto(f"{server.url}tree?token={TOKEN}")
                for number in range(args.pages):
                    extra = first if number == 0 else context.new_page()
                    extra.goto(server.url + f"nbclassic/edit/notes/n{number:02d}.py")
                    extra.wait_for_selector(".CodeMirror", timeout=120_000)
                    extra.mouse.move(100, 100)  # an input: every page is 'in use' as far as it can tell
                print(f"  block {block + 1}: {args.pages} pages open on {label}", file=sys.stderr)
                time.sleep(15)  # every page has reported and settled into its 10 s heartbeat
                for _ in range(max(1, args.rounds // 2)):
                    before = cpu_seconds(server.process.pid)
                    keep_busy(first, args.window)
                    cpu.setdefault(("many", label), []).append((cpu_seconds(server.process.pid) - before) * 1000)
                context.close()
            chromium.close()
        events = aw.call("GET", "buckets/")
    finally:
        aw.stop()

    per = f"ms CPU per {args.window:g} s"
    print(f"{args.rounds} rounds per figure, medians (off = c.ActivityWatch.heartbeats = False)")
    print(f"{'measure':52} {'off':>10} {'on':>10} {'ratio':>7}")
    print(median_row("server CPU, one notebook in use", cpu[("one", "off")], cpu[("one", "on")], per))
    print(median_row("notebook page: load event", loads[("load", "off")], loads[("load", "on")], "ms"))
    print(
        median_row(f"server CPU, {args.pages} pages open, one in use", cpu[("many", "off")], cpu[("many", "on")], per)
    )
    print(f"buckets on the aw-server: {', '.join(sorted(events))}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
