"""Measures what jupyter-helpers costs a user, each figure against a baseline from the same run.

    python benchmarks/run.py [--runs N]

1. IPython start with the installed startup file vs an empty profile (wall time, median).
2. Per-cell cost of the autonotify hooks: an in-process shell running short cells with and
   without the extension (median per cell), and the two hooks alone.
3. Sending: what the cell pays (enqueue) and cell end -> message at a local fake Telegram,
   vs calling ntfy directly in the cell, as a naive implementation would.
Everything runs in a temp home; the fake Telegram is reached through HTTPS_PROXY on 127.0.0.1.
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
BIN = Path(sys.executable).parent


def median_seconds(action, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def isolate(home: Path) -> None:
    locations = {"HOME": home, "IPYTHONDIR": home / ".ipython", "JUPYTER_CONFIG_DIR": home / ".jupyter",
                 "JUPYTER_DATA_DIR": home / ".local/share/jupyter", "XDG_CONFIG_HOME": home / ".config"}
    for name, value in locations.items():
        os.environ[name] = str(value)


def ipython_start(profile: str, runs: int) -> float:
    command = [sys.executable, "-m", "IPython", "--no-banner", f"--profile={profile}", "-c", "pass"]
    return median_seconds(lambda: subprocess.run(command, check=True, capture_output=True), runs)


def bench_startup(runs: int) -> tuple[float, float]:
    subprocess.run([str(BIN / "jupyter-helpers"), "install", "--profile", "bench"], check=True, capture_output=True)
    (Path(os.environ["IPYTHONDIR"]) / "profile_plain" / "startup").mkdir(parents=True)
    ipython_start("plain", 2)  # warm the file cache for both
    return ipython_start("plain", runs), ipython_start("bench", runs)


def bench_cells(cells: int) -> tuple[float, float, float]:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    per_cell = lambda: median_seconds(lambda: shell.run_cell("x = 1", store_history=False), cells)  # noqa: E731
    without = per_cell()
    shell.extension_manager.load_extension("jupyter_helpers")
    with_ext = per_cell()
    watcher = shell.events.callbacks["post_run_cell"][-1].__self__
    result = shell.run_cell("pass")
    hooks = median_seconds(lambda: (watcher.pre_run_cell(None), watcher.post_run_cell(result)), cells * 10)
    return without, with_ext, hooks


def bench_sending(home: Path, sends: int) -> tuple[float, float, float]:
    from IPython.core.interactiveshell import InteractiveShell

    from jupyter_helpers.notify.message import CellRecord

    from support.fake_telegram import FakeTelegram

    ntfy_dir = home / ".config" / "ntfy"
    ntfy_dir.mkdir(parents=True, exist_ok=True)
    token = "123456789:AAbenchmarkTokenabcdefghijklmnop"
    (ntfy_dir / "telegram.ini").write_text(f"[telegram]\ntoken = {token}\nchat_id = 1\n")
    with FakeTelegram(home) as fake:
        os.environ.update(fake.env())
        import ntfy

        direct = median_seconds(lambda: ntfy.notify("direct", "bench", config={"backends": ["telegram"]}), sends)
        watcher = InteractiveShell.instance().events.callbacks["post_run_cell"][-1].__self__
        record = CellRecord(notebook="bench.ipynb", cell_number=1, seconds=61, host="bench")
        enqueue, arrival = [], []
        for _ in range(sends):
            count = len(fake.messages)
            start = time.perf_counter()
            watcher.notify(record)
            enqueue.append(time.perf_counter() - start)
            deadline = time.monotonic() + 60
            while len(fake.messages) == count and time.monotonic() < deadline:
                time.sleep(0.005)
            arrival.append(time.perf_counter() - start)
    return direct, statistics.median(enqueue), statistics.median(arrival)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="IPython starts per variant (default 10)")
    parser.add_argument("--cells", type=int, default=2000, help="cells per variant (default 2000)")
    parser.add_argument("--sends", type=int, default=5, help="messages sent per variant (default 5)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="jh-bench-"))
    isolate(home)

    plain, installed = bench_startup(args.runs)
    without, with_ext, hooks = bench_cells(args.cells)
    direct, enqueue, arrival = bench_sending(home, args.sends)
    print(f"{'measure':48} {'baseline':>12} {'jupyter-helpers':>16} {'ratio':>8}")
    rows = [
        ("IPython start (empty profile vs installed)", plain, installed),
        ("short cell in-process (no extension vs loaded)", without, with_ext),
        ("cell pays for a send (direct ntfy vs enqueue)", direct, enqueue),
        ("cell end -> message at fake Telegram", direct, arrival),
    ]
    for label, base, ours in rows:
        print(f"{label:48} {base * 1e3:10.3f}ms {ours * 1e3:14.3f}ms {ours / base:8.3f}")
    print(f"{'both hooks alone, per short cell':48} {'':>12} {hooks * 1e6:14.2f}µs")


if __name__ == "__main__":
    main()
