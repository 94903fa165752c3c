"""How long `jupyter-helpers activitywatch report` takes on a year-sized history (~10^5 events), and
how much memory it needs on a much larger one (10^6).

    python benchmarks/activitywatch_report.py [--events N] [--runs R] [--no-http] [--no-memory]

Synthetic window events (5-300 s each, short gaps) and AFK spans covering the same stretch, titles
drawn from a few hundred (half with a mapped project's suffix). Reported, as medians of R runs with
A and B interleaved after a warm-up:
1. Processing only (events already in memory -> report): the full `build_report`, reading the
   events a slice (week) at a time as it does from a server, against a floor measured in the same
   run: parsing each event's timestamp once, which any implementation pays. Also 10% of the
   events, to show the processing grows linearly (one pass).
2. Over HTTP against a real aw-server (PyPI, SQLite storage, 127.0.0.1): fetching the two buckets
   in one answer each (how the report read them before) and a week at a time (how it reads them
   now), and the whole console script (`--json`, process start included); 3 runs, no warm-up
   (seeding warmed the server; the Python aw-server needs tens of seconds per 10^5 events).
3. Peak memory (VmHWM) of the whole command over tests/support/fake_aw.py's
   synthetic history of 10^5 and 10^6 window events (one every 30 s): it should not grow.
"""

from __future__ import annotations

import argparse
import bisect
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

from jupyter_helpers.activitywatch.client import ActivityWatchServer  # noqa: E402
from jupyter_helpers.activitywatch.periods import Period, day_edges  # noqa: E402
from jupyter_helpers.activitywatch.report import Span, build_report, event_span, slice_edges  # noqa: E402

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
        windows.append(
            {"timestamp": clock.isoformat(), "duration": duration, "data": {"app": "x", "title": rng.choice(titles)}}
        )
        clock += timedelta(seconds=duration)
    end, clock, afk, status = clock, start, [], "not-afk"
    while clock < end:
        duration = rng.uniform(300, 3600) if status == "not-afk" else rng.uniform(60, 1800)
        afk.append({"timestamp": clock.isoformat(), "duration": duration, "data": {"status": status}})
        clock += timedelta(seconds=duration)
        status = "afk" if status == "not-afk" else "not-afk"
    return windows, afk, Period(start, end)


BUCKETS = {
    "aw-watcher-window_bench": {"type": "currentwindow", "hostname": "bench"},
    "aw-watcher-afk_bench": {"type": "afkstatus", "hostname": "bench"},
}


class InMemory:
    """The report's event source over lists (events that follow each other, as a watcher's do):
    each slice gets the events that overlap it, as the server sends them."""

    def __init__(self, events: dict[str, list[dict]]) -> None:
        self.events = {bucket: sorted(found, key=lambda event: event["timestamp"]) for bucket, found in events.items()}
        spans = {bucket: [event_span(event) for event in found] for bucket, found in self.events.items()}
        self.starts = {bucket: [start for start, _ in found] for bucket, found in spans.items()}
        self.ends = {bucket: [end for _, end in found] for bucket, found in spans.items()}

    def has_events(self, bucket: str, span: Span) -> bool:
        return bool(self.overlapping(bucket, span))

    def overlapping(self, bucket: str, span: Span) -> list[dict]:
        first = bisect.bisect_right(self.ends[bucket], span[0])
        return self.events[bucket][first : bisect.bisect_left(self.starts[bucket], span[1])]

    def slices(self, buckets: list[str], edges: list[Span]):
        for span in edges:
            yield span, {bucket: self.overlapping(bucket, span) for bucket in buckets}


def process(source: InMemory, period: Period) -> None:
    build_report(BUCKETS, source, "bench", period, PROJECTS, day_edges(period, None))


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
    parser.add_argument("--no-http", action="store_true", help="skip the real aw-server (minutes)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak memory over 10^5 and 10^6 events")
    args = parser.parse_args()
    windows, afk, period = synthetic(args.events)
    small_windows, small_afk, small_period = synthetic(args.events // 10)
    source = InMemory({"aw-watcher-window_bench": windows, "aw-watcher-afk_bench": afk})
    small = InMemory({"aw-watcher-window_bench": small_windows, "aw-watcher-afk_bench": small_afk})
    print(f"{len(windows)} window + {len(afk)} AFK events over {(period.until - period.since).days} days")

    times = interleaved(
        {
            "process": lambda: process(source, period),
            "floor": lambda: parse_floor(windows, afk),
            "process_10%": lambda: process(small, small_period),
        },
        args.runs,
    )
    print(f"processing (events in memory -> report): {times['process']:.3f} s median of {args.runs}")
    print(
        f"  floor, parsing each timestamp once:     {times['floor']:.3f} s  (processing/floor = "
        f"{times['process'] / times['floor']:.2f})"
    )
    print(
        f"  with 10% of the events:                 {times['process_10%']:.3f} s  (full/10% = "
        f"{times['process'] / times['process_10%']:.1f}, linear would be ~10)"
    )

    if not args.no_http:
        over_http(windows, afk, period, times["process"])
    if not args.no_memory:
        peak_memory()


def over_http(windows: list[dict], afk: list[dict], period: Period, processing: float) -> None:
    from support.aw_server import ActivityWatch

    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        aw = ActivityWatch(work, storage="peewee")
        try:
            began = time.perf_counter()
            for bucket, kind, events in (
                ("aw-watcher-window_bench", "currentwindow", windows),
                ("aw-watcher-afk_bench", "afkstatus", afk),
            ):
                aw.call("POST", f"buckets/{bucket}", {"client": "bench", "type": kind, "hostname": "bench"})
                for first in range(0, len(events), 5_000):
                    aw.call("POST", f"buckets/{bucket}/events", events[first : first + 5_000])
            print(f"seeding aw-server: {time.perf_counter() - began:.1f} s (not part of the report)")

            home = work / "home"
            env = {
                **os.environ,
                "HOME": str(home),
                "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
                "XDG_CONFIG_HOME": str(home / ".config"),
            }
            for number, name in enumerate(PROJECTS):
                subprocess.run(
                    [str(BIN / "jupyter-helpers"), "projects", "add", f"/p/{number}", name],
                    env=env,
                    check=True,
                    capture_output=True,
                )
            url = f"http://127.0.0.1:{aw.port}"  # a server object per run: its deadline is one report's
            command = [
                str(BIN / "jupyter-helpers"),
                "activitywatch",
                "report",
                "--server",
                url,
                "--host",
                "bench",
                "--since",
                "400d",
                "--json",
            ]
            payload = json.dumps(windows + afk).encode()
            whole = (period.since.timestamp(), period.until.timestamp())
            slices = slice_edges(day_edges(period, None))
            http_times = interleaved(
                {  # seeding warmed the server; each run here takes a while
                    "fetch": lambda: [ActivityWatchServer(url).events(bucket, whole, 10**9) for bucket in BUCKETS],
                    "fetch_slices": lambda: list(ActivityWatchServer(url).slices(list(BUCKETS), slices)),
                    "cli": lambda: subprocess.run(command, env=env, check=True, capture_output=True),
                    "decode": lambda: json.loads(payload),
                },
                3,
                warm_up=False,
            )
        finally:
            aw.stop()
    print(
        f"HTTP fetch of both buckets (aw-server, SQLite storage), one answer each: {http_times['fetch']:.3f} s "
        f"(of which our JSON decoding: {http_times['decode']:.3f} s)"
    )
    print(
        f"  the same, a week at a time ({len(slices)} slices):                  {http_times['fetch_slices']:.3f} s "
        f"(ratio {http_times['fetch_slices'] / http_times['fetch']:.2f})"
    )
    print(
        f"whole command, `report --since 400d --json`:           {http_times['cli']:.3f} s "
        f"(processing is {processing / http_times['cli']:.0%} of it)"
    )


def peak_memory() -> None:
    from support.fake_aw import history, serving
    from support.processes import cli_peak_memory

    with tempfile.TemporaryDirectory() as scratch:
        home = Path(scratch)
        env = {
            **os.environ,
            "HOME": str(home),
            "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "TZ": "UTC0",
        }
        for name in ("Project Alpha", "Project Beta"):
            subprocess.run(
                [str(BIN / "jupyter-helpers"), "projects", "add", f"/p/{name}", name],
                env=env,
                check=True,
                capture_output=True,
            )
        for events in (100_000, 1_000_000):
            with serving(history(events)) as url:
                began = time.perf_counter()
                done, megabytes = cli_peak_memory(
                    "activitywatch",
                    "report",
                    "--server",
                    url,
                    "--host",
                    "big",
                    "--since",
                    "2025-01-01",
                    "--until",
                    "2026-06-30",
                    "--json",
                    env=env,
                )
            print(
                f"peak memory of the command over {events:>9,} events: {megabytes:5.0f} MB "
                f"(exit {done.returncode}, {time.perf_counter() - began:.1f} s with the fake server generating them)"
            )


if __name__ == "__main__":
    main()
