"""How long `jupyter-helpers activitywatch report` takes on a year-sized history (~10^5 events).

    python benchmarks/activitywatch_report.py [--events N] [--runs R] [--no-http]

Synthetic window events (5-300 s each, short gaps) and AFK spans covering the same stretch, titles
drawn from a few hundred (half with a mapped project's suffix). Reported, as medians of R runs with
A and B interleaved after a warm-up:
1. Processing only (events already in memory -> report): the full `build_report`, against a floor
   measured in the same run: parsing each event's timestamp once, which any implementation pays.
   Also 10% of the events, to show the processing grows linearly (one pass).
2. Over HTTP against a real aw-server (PyPI, SQLite storage, 127.0.0.1): fetching the two buckets,
   and the whole console script (`--json`, process start included); 3 runs, no warm-up (seeding
   warmed the server; the Python aw-server needs tens of seconds per 10^5 events).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
BIN = Path(sys.executable).parent

from jupyter_helpers.activitywatch.periods import Period  # noqa: E402
from jupyter_helpers.activitywatch.report import build_report  # noqa: E402
from jupyter_helpers.activitywatch_client import ActivityWatchServer  # noqa: E402

PROJECTS = [f"Project {name}" for name in ("Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta")]
BROWSERS = [" - Google Chrome", " — Mozilla Firefox", " - Chromium", " and 2 more pages - Personal - Microsoft Edge"]


def synthetic(count: int, seed: int = 7) -> tuple[list[dict], list[dict], Period]:
    """`count` window events from a year ago onwards, and AFK events over the same stretch."""
    rng = random.Random(seed)
    titles = [f"nb{i}.ipynb - JupyterLab - {rng.choice(PROJECTS)}{rng.choice(BROWSERS)}" for i in range(200)]
    titles += [f"page {i} - Project Alphabet - Google Chrome" for i in range(50)]
    titles += [f"~/src{i}: bash" for i in range(150)]
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=365)
    clock, windows = start, []
    for _ in range(count):
        clock += timedelta(seconds=rng.randint(0, 60))
        duration = rng.uniform(5, 300)
        windows.append({"timestamp": clock.isoformat(), "duration": duration,
                        "data": {"app": "x", "title": rng.choice(titles)}})
        clock += timedelta(seconds=duration)
    end, clock, afk, status = clock, start, [], "not-afk"
    while clock < end:
        duration = rng.uniform(300, 3600) if status == "not-afk" else rng.uniform(60, 1800)
        afk.append({"timestamp": clock.isoformat(), "duration": duration, "data": {"status": status}})
        clock += timedelta(seconds=duration)
        status = "afk" if status == "not-afk" else "not-afk"
    return windows, afk, Period(start, end)


BUCKETS = {"aw-watcher-window_bench": {"type": "currentwindow", "hostname": "bench"},
           "aw-watcher-afk_bench": {"type": "afkstatus", "hostname": "bench"}}


def process(windows: list[dict], afk: list[dict], period: Period) -> None:
    events = {"aw-watcher-window_bench": windows, "aw-watcher-afk_bench": afk}
    build_report(BUCKETS, events.__getitem__, "bench", period, PROJECTS)


def parse_floor(windows: list[dict], afk: list[dict]) -> None:
    for event in windows + afk:
        datetime.fromisoformat(event["timestamp"])


def interleaved(actions: dict[str, callable], runs: int, warm_up: bool = True) -> dict[str, float]:
    for action in actions.values() if warm_up else ():
        action()
    samples = {name: [] for name in actions}
    for _ in range(runs):
        for name, action in actions.items():
            began = time.perf_counter()
            action()
            samples[name].append(time.perf_counter() - began)
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-http", action="store_true", help="measure the processing only (seconds, not minutes)")
    args = parser.parse_args()
    windows, afk, period = synthetic(args.events)
    small_windows, small_afk, small_period = synthetic(args.events // 10)
    print(f"{len(windows)} window + {len(afk)} AFK events over {(period.until - period.since).days} days")

    times = interleaved({
        "process": lambda: process(windows, afk, period),
        "floor": lambda: parse_floor(windows, afk),
        "process_10%": lambda: process(small_windows, small_afk, small_period),
    }, args.runs)
    print(f"processing (events in memory -> report): {times['process']:.3f} s median of {args.runs}")
    print(f"  floor, parsing each timestamp once:     {times['floor']:.3f} s  (processing/floor = "
          f"{times['process'] / times['floor']:.2f})")
    print(f"  with 10% of the events:                 {times['process_10%']:.3f} s  (full/10% = "
          f"{times['process'] / times['process_10%']:.1f}, linear would be ~10)")

    if args.no_http:
        return
    from support.aw_server import ActivityWatch

    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        aw = ActivityWatch(work, storage="peewee")
        try:
            began = time.perf_counter()
            for bucket, kind, events in (("aw-watcher-window_bench", "currentwindow", windows),
                                         ("aw-watcher-afk_bench", "afkstatus", afk)):
                aw.call("POST", f"buckets/{bucket}", {"client": "bench", "type": kind, "hostname": "bench"})
                for first in range(0, len(events), 5_000):
                    aw.call("POST", f"buckets/{bucket}/events", events[first:first + 5_000])
            print(f"seeding aw-server: {time.perf_counter() - began:.1f} s (not part of the report)")

            home = work / "home"
            env = {**os.environ, "HOME": str(home), "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
                   "XDG_CONFIG_HOME": str(home / ".config")}
            for number, name in enumerate(PROJECTS):
                subprocess.run([str(BIN / "jupyter-helpers"), "projects", "add", f"/p/{number}", name],
                               env=env, check=True, capture_output=True)
            server = ActivityWatchServer(f"http://127.0.0.1:{aw.port}")
            command = [str(BIN / "jupyter-helpers"), "activitywatch", "report", "--server", server.url,
                       "--host", "bench", "--since", "400d", "--json"]
            payload = json.dumps(windows + afk).encode()
            http_times = interleaved({  # seeding warmed the server; each run here takes a while
                "fetch": lambda: [server.events(bucket, period) for bucket in BUCKETS],
                "cli": lambda: subprocess.run(command, env=env, check=True, capture_output=True),
                "decode": lambda: json.loads(payload),
            }, 3, warm_up=False)
        finally:
            aw.stop()
    print(f"HTTP fetch of both buckets (aw-server, SQLite storage): {http_times['fetch']:.3f} s "
          f"(of which our JSON decoding: {http_times['decode']:.3f} s)")
    print(f"whole command, `report --since 400d --json`:           {http_times['cli']:.3f} s "
          f"(processing is {times['process'] / http_times['cli']:.0%} of it)")


if __name__ == "__main__":
    main()
