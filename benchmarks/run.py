"""Measures what jupyter-helpers costs a user, each figure against a baseline from the same run.

    python benchmarks/run.py [--runs N] [--cells N] [--sends N] [--kernels N]

Every row interleaves baseline and jupyter-helpers samples (ABBA order), warms up first and
reports medians, so a busy machine slows both sides alike:

1. IPython start and kernel start: an empty profile vs one with the installed startup file
   (wall time, and CPU time, which a busy machine disturbs far less).
2. Per-cell cost: short cells in one shell with the extension unloaded vs loaded (in batches of
   100, wall and CPU time), and the two hooks alone.
3. Delivery: submit -> message recorded by a local fake Telegram (in a process of its own),
   through the warm sender, vs calling `ntfy.notify` in-process (the floor for the same message
   through the same library), vs a direct HTTPS POST of the same message.
4. CPU per message: a fresh delivery child per message vs the warm child (child plus the
   kernel-side sender thread).
5. A fresh kernel's first message, submit -> at the fake Telegram: its delivery child started by
   the message (as before) vs started when the run crossed the threshold, 1.5 s earlier.
6. The memory watch (kernel/memory.py): CPU of its sampling thread while one cell runs for a few
   seconds (a busy kernel: at most 0.1% of a core is the budget) and while the shell is idle as
   long (nothing), and its two hooks alone per cell.
7. A live message: the kernel's CPU per edit (closing thread and sender worker; the warm child
   does the talking), and the memory a kernel holds with its children `--idle` seconds after its
   last message and live edit (default 300: the warm child's idle time, so it has left) vs a
   kernel without the extension that ran the same cell.
8. With --instructions (needs valgrind): instructions counted by callgrind, which a busy machine
   does not change at all: IPython start, a short cell, and the two hooks alone. These are the
   figures to quote for start-up and per-cell cost; wall and CPU rows on a shared 2-core VM swing
   by +-10 % from run to run.
Everything runs in a temp home; the fake Telegram is reached through HTTPS_PROXY on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import resource
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
BIN = Path(sys.executable).parent
TOKEN = "123456789:AAbenchmarkTokenabcdefghijklmnop"


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def wall_and_cpu(action: Callable[[], object], cpu: Callable[[], float]) -> tuple[float, float]:
    """Wall time and CPU time of `action`; CPU time barely changes when a busy machine makes
    processes wait for a core, so it shows a cost that wall time drowns in noise."""
    cpu_before, start = cpu(), time.perf_counter()
    action()
    return time.perf_counter() - start, cpu() - cpu_before


Sample = tuple[float, float]


def interleaved(
    base: Callable[[], Sample], ours: Callable[[], Sample], runs: int, warmup: int = 2
) -> tuple[Sample, Sample]:
    """Medians (per component) of `runs` samples each, taken A B B A ... after `warmup` rounds."""
    samples: tuple[list[Sample], list[Sample]] = ([], [])
    for round_ in range(warmup + runs):
        order = ((0, base), (1, ours)) if round_ % 2 == 0 else ((1, ours), (0, base))
        for index, measure in order:
            value = measure()
            if round_ >= warmup:
                samples[index].append(value)
    return tuple(  # type: ignore[return-value]
        tuple(statistics.median(part) for part in zip(*side, strict=True)) for side in samples
    )


def isolate(home: Path) -> None:
    """A temp home with jupyter-helpers installed in profile `bench`, an empty profile `plain`,
    and bytecode as a pip install leaves it (PYTHONDONTWRITEBYTECODE would make every start
    compile our modules again: ~3 ms per module, not what users pay)."""
    from jupyter_helpers.common.resources import package_dir

    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package_dir())], check=True)
    locations = {
        "HOME": home,
        "IPYTHONDIR": home / ".ipython",
        "JUPYTER_CONFIG_DIR": home / ".jupyter",
        "JUPYTER_DATA_DIR": home / ".local/share/jupyter",
        "XDG_CONFIG_HOME": home / ".config",
        "JUPYTER_RUNTIME_DIR": home / ".local/share/jupyter/runtime",
    }
    for name, value in locations.items():
        os.environ[name] = str(value)
    ntfy_dir = home / ".config" / "ntfy"
    ntfy_dir.mkdir(parents=True, exist_ok=True)
    (ntfy_dir / "telegram.ini").write_text(f"[telegram]\ntoken = {TOKEN}\nchat_id = 1\n")
    subprocess.run([str(BIN / "jupyter-helpers"), "install", "--profile", "bench"], check=True, capture_output=True)
    (Path(os.environ["IPYTHONDIR"]) / "profile_plain" / "startup").mkdir(parents=True)


def bench_ipython_start(runs: int) -> tuple[Sample, Sample]:
    def start(profile: str) -> Callable[[], Sample]:
        command = [sys.executable, "-m", "IPython", "--no-banner", f"--profile={profile}", "-c", "pass"]
        return lambda: wall_and_cpu(lambda: subprocess.run(command, check=True, capture_output=True), children_cpu)

    return interleaved(start("plain"), start("bench"), runs)


def bench_kernel_start(runs: int) -> tuple[Sample, Sample]:
    """Launch -> kernel_info reply, the way a notebook server starts a kernel (CPU: the kernel's
    whole short life, start to shutdown)."""
    from jupyter_client.manager import start_new_kernel

    def start(profile: str) -> Callable[[], Sample]:
        def once() -> Sample:
            cpu_before, started = children_cpu(), time.perf_counter()
            manager, client = start_new_kernel(
                kernel_name="python3", extra_arguments=[f"--profile={profile}"], stderr=subprocess.DEVNULL
            )
            seconds = time.perf_counter() - started
            client.stop_channels()
            manager.shutdown_kernel(now=True)
            return seconds, children_cpu() - cpu_before

        return once

    return interleaved(start("plain"), start("bench"), runs, warmup=1)


def bench_cells(cells: int) -> tuple[Sample, Sample, float]:
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()

    def batch(loaded: bool) -> Callable[[], Sample]:
        def once() -> Sample:
            manager = shell.extension_manager
            if loaded and "jupyter_helpers" not in manager.loaded:
                manager.load_extension("jupyter_helpers")
            elif not loaded and "jupyter_helpers" in manager.loaded:
                manager.unload_extension("jupyter_helpers")
            wall, cpu = wall_and_cpu(
                lambda: [shell.run_cell("x = 1", store_history=False) for _ in range(100)], time.thread_time
            )
            return wall / 100, cpu / 100

        return once

    without, with_ext = interleaved(batch(False), batch(True), max(cells // 100, 3))
    shell.extension_manager.load_extension("jupyter_helpers")
    watcher = the_watcher(shell)
    result = shell.run_cell("pass")
    hooks = statistics.median(
        timed(lambda: (watcher.pre_run_cell(result.info), watcher.post_run_cell(result))) for _ in range(cells * 10)
    )
    return without, with_ext, hooks


def bench_memory_watch(seconds: float, cells: int) -> dict[str, float]:
    """The memory watch's thread: CPU per second of a running cell and of idling, on its own CPU
    clock; its hooks alone, per cell (in the extension loaded by bench_cells)."""
    from IPython.core.interactiveshell import InteractiveShell

    from jupyter_helpers.kernel import extension

    shell = InteractiveShell.instance()
    if "jupyter_helpers" not in shell.extension_manager.loaded:
        shell.extension_manager.load_extension("jupyter_helpers")
    watch = extension._memory[id(shell)]
    result = shell.run_cell("import time; time.sleep(0.3)")  # the thread starts with a cell
    assert watch._thread is not None and watch._thread.ident is not None
    clock = time.pthread_getcpuclockid(watch._thread.ident)

    def thread_cpu(action: Callable[[], object]) -> float:
        before = time.clock_gettime(clock)
        action()
        return time.clock_gettime(clock) - before

    busy = thread_cpu(lambda: shell.run_cell(f"time.sleep({seconds})", store_history=False)) / seconds
    time.sleep(1.0)  # the look under way when the cell ended finishes; then the thread blocks
    idle = thread_cpu(lambda: time.sleep(seconds)) / seconds
    hooks = statistics.median(
        timed(lambda: (watch.pre_run_cell(result.info), watch.post_run_cell(result))) for _ in range(cells * 10)
    )
    return {"busy": busy, "idle": idle, "hooks": hooks}


CELLS_SCRIPT = """
import sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.config.AutoNotify.after = 1e7  # valgrind slows time 50-fold: no run may reach the threshold
if sys.argv[1] == "nomemory":
    shell.config.AutoNotify.memory_warn = 0  # the memory watch's looks come per wall-clock second
if sys.argv[1] != "off":
    shell.extension_manager.load_extension("jupyter_helpers")
for _ in range(int(sys.argv[2])):
    shell.run_cell("x = 1", store_history=False)
"""
HOOKS_SCRIPT = """
import sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.config.AutoNotify.after = 1e7
shell.extension_manager.load_extension("jupyter_helpers")
watcher = next(cb.__self__ for cb in shell.events.callbacks["post_run_cell"]
               if hasattr(getattr(cb, "__self__", None), "sender"))
result = shell.run_cell("pass")
pre, post, info = watcher.pre_run_cell, watcher.post_run_cell, result.info
for _ in range(int(sys.argv[1])):
    pre(info)
    post(result)
"""

MEMORY_HOOKS_SCRIPT = """
import sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.config.AutoNotify.after = 1e7
shell.extension_manager.load_extension("jupyter_helpers")
from jupyter_helpers.kernel import extension
watch = extension._memory[id(shell)]
result = shell.run_cell("pass")
pre, post, info = watch.pre_run_cell, watch.post_run_cell, result.info
for _ in range(int(sys.argv[1])):
    pre(info)
    post(result)
"""


def instructions(command: list[str]) -> int:
    """Instructions `command` executes, counted by callgrind (the same for the same inputs,
    however busy the machine is)."""
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    return int(next(line for line in done.stderr.splitlines() if "Collected" in line).split(":")[-1])


def per_repeat(command: Callable[[int], list[str]], few: int, many: int) -> float:
    """Instructions per repetition, from two runs that differ only in how often they repeat."""
    return (instructions(command(many)) - instructions(command(few))) / (many - few)


def bench_instructions() -> dict[str, float]:
    def start(profile: str) -> list[str]:
        return [sys.executable, "-m", "IPython", "--no-banner", f"--profile={profile}", "-c", "pass"]

    def cells(state: str) -> Callable[[int], list[str]]:
        return lambda count: [sys.executable, "-c", CELLS_SCRIPT, state, str(count)]

    return {
        "start_plain": instructions(start("plain")),
        "start_bench": instructions(start("bench")),
        "cell_off": per_repeat(cells("off"), 200, 3200),
        "cell_on": per_repeat(cells("on"), 200, 3200),
        "hooks": per_repeat(lambda count: [sys.executable, "-c", HOOKS_SCRIPT, str(count)], 0, 10000),
        "cell_nomemory": per_repeat(cells("nomemory"), 200, 3200),
        "memory_hooks": per_repeat(lambda count: [sys.executable, "-c", MEMORY_HOOKS_SCRIPT, str(count)], 0, 10000),
    }


def print_instructions(counts: dict[str, float]) -> None:
    print(f"{'instructions (callgrind)':56} {'baseline':>14} {'jupyter-helpers':>16} {'ratio':>8}")
    for label, base, ours in [
        ("IPython start (empty profile vs installed)", counts["start_plain"], counts["start_bench"]),
        ("short cell (no extension vs loaded), per cell", counts["cell_off"], counts["cell_on"]),
    ]:
        print(f"{label:56} {base:14,.0f} {ours:16,.0f} {ours / base:8.3f}")
    extra = counts["cell_on"] - counts["cell_off"]
    print(f"{'short cell: extension minus none, per cell':56} {'':>14} {extra:16,.0f}")
    print(f"{'both hooks alone, per cell':56} {'':>14} {counts['hooks']:16,.0f}")
    watch = counts["cell_on"] - counts["cell_nomemory"]
    print(f"{'short cell: memory watch on minus off, per cell':56} {'':>14} {watch:16,.0f}")
    print(f"{'memory hooks alone, per cell':56} {'':>14} {counts['memory_hooks']:16,.0f}")


def the_watcher(shell) -> object:
    """The extension's post_run_cell owner (it holds the sender)."""
    return next(
        cb.__self__
        for cb in shell.events.callbacks["post_run_cell"]
        if hasattr(getattr(cb, "__self__", None), "sender")
    )


class FakeTelegramProcess:
    """The fake Bot API in a process of its own, so that no variant shares a GIL with it; it
    prints one line per recorded message, which marks the arrival."""

    def __init__(self, workdir: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve-fake-telegram", str(workdir)], stdout=subprocess.PIPE
        )
        assert self.process.stdout is not None
        self._out = self.process.stdout
        self.env = dict(line.split("=", 1) for line in self._out.readline().decode().split())

    def arrival(self, send: Callable[[], object]) -> float:
        """Seconds from calling `send` until the fake recorded one more message."""
        start = time.perf_counter()
        send()
        if not select.select([self._out], [], [], 60)[0]:
            raise TimeoutError("no message arrived within 60 s")
        self._out.readline()
        return time.perf_counter() - start

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def serve_fake_telegram(workdir: Path) -> None:
    from support.fake_telegram import FakeTelegram

    class Announcing(FakeTelegram):
        def record(self, path: str, fields: dict) -> int:
            message_id = super().record(path, fields)
            sys.stdout.write("message\n")
            sys.stdout.flush()
            return message_id

    with Announcing(workdir) as fake:
        print(" ".join(f"{name}={value}" for name, value in fake.env().items()), flush=True)
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
        signal.sigwait({signal.SIGTERM})


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_delivery(sends: int) -> dict[str, float]:
    import httpx
    import ntfy

    from jupyter_helpers.common import paths
    from jupyter_helpers.common.child import child_command
    from jupyter_helpers.common.sender import Sender

    command = child_command(paths.profile_dir("bench"))  # the recorded Python, as kernels use
    fake = FakeTelegramProcess(Path(os.environ["HOME"]))
    os.environ.update(fake.env)
    try:
        sender = Sender(command, timeout=30)
        text = "✅ bench.ipynb: cell [7] finished after 2 min 03 s\nResult: 42\nHost: bench"
        url = f"https://api.telegram.org/bot{TOKEN}/sendMessage"
        # a new connection (CONNECT + TLS) per POST, as ntfy makes, with the TLS context made once
        client = httpx.Client(limits=httpx.Limits(max_keepalive_connections=0))
        post = lambda: client.post(url, json={"chat_id": 1, "text": text}).raise_for_status()  # noqa: E731
        in_process = lambda: ntfy.notify(text, "bench", config={"backends": ["telegram"]})  # noqa: E731
        warm = lambda: sender.submit(text, "bench")  # noqa: E731
        for _ in range(3):  # warm up all three (the sender's child starts here)
            for send in (post, in_process, warm):
                fake.arrival(send)
        samples: dict[str, list[float]] = {"post": [], "ntfy": [], "warm": []}
        for round_ in range(sends):
            order = [("post", post), ("ntfy", in_process), ("warm", warm)]
            for name, send in order if round_ % 2 == 0 else reversed(order):
                samples[name].append(fake.arrival(send))
        assert sender.wait_idle(60) and not sender.take_warnings()

        child = sender.child_pid
        worker = sender._worker  # the kernel-side sender thread: its CPU counts too
        clock = time.pthread_getcpuclockid(worker.ident)
        child_cpu, thread_cpu = cpu_of(child), time.clock_gettime(clock)
        for _ in range(sends):
            fake.arrival(warm)
        assert sender.wait_idle(60)
        warm_cpu = (cpu_of(child) - child_cpu + time.clock_gettime(clock) - thread_cpu) / sends
        sender.close()

        # A fresh kernel's first message: its child started by the message itself (as before),
        # or when the run crossed the threshold (now: `warm`), here 1.5 s before the cell ends.
        def first_message(crossing: bool) -> float:
            first = Sender(command, timeout=30)
            if crossing:
                first.warm()
                time.sleep(1.5)
            seconds = fake.arrival(lambda: first.submit(text, "bench"))
            first.close()
            return seconds

        firsts: dict[bool, list[float]] = {False: [], True: []}
        for round_ in range(min(sends, 6)):
            for crossing in (False, True) if round_ % 2 == 0 else (True, False):
                firsts[crossing].append(first_message(crossing))

        fresh = []
        for _ in range(min(sends, 5)):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            one_shot = Sender(command, timeout=30)
            fake.arrival(lambda: one_shot.submit(text, "bench"))  # noqa: B023
            one_shot.close()
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            fresh.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    finally:
        fake.stop()
    medians = {name: statistics.median(values) for name, values in samples.items()}
    return {
        **medians,
        "warm_cpu": warm_cpu,
        "fresh_cpu": statistics.median(fresh),
        "first_cold": statistics.median(firsts[False]),
        "first_warmed": statistics.median(firsts[True]),
    }


def bench_edits(edits: int) -> float:
    """Kernel CPU (every thread of this process: the closing thread composing the text, the
    sender's worker writing the request and reading the reply) per edit of a live message, the
    warm child and the fake Bot API (a process of its own) doing the rest."""
    from IPython.core.interactiveshell import InteractiveShell

    from jupyter_helpers.kernel.runs import Run

    fake = FakeTelegramProcess(Path(os.environ["HOME"]))
    os.environ.update(fake.env)
    try:
        shell = InteractiveShell.instance()
        shell.extension_manager.load_extension("jupyter_helpers")
        watcher: Any = the_watcher(shell)
        run = Run(time.perf_counter())
        run.running = True
        watcher._live(run)  # the silent send: the warm child starts here
        assert watcher.sender.wait_idle(60) and run.live is not None and run.live.id is not None

        def edit() -> None:
            run.cells += 1  # a new text every time: every look is an edit
            watcher._live(run)
            assert watcher.sender.wait_idle(60)

        for _ in range(5):
            edit()
        before = time.process_time()
        for _ in range(edits):
            edit()
        cpu = (time.process_time() - before) / edits
        assert run.live.text is not None and run.live.text.startswith("⏳")
        watcher.close(hand_off=False)
    finally:
        fake.stop()
    return cpu


def rss_with_children(pid: int) -> int:
    """Bytes of resident memory of `pid` and all its descendants."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) * 1024
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(child) for child in (task / "children").read_text().split())
        except (OSError, StopIteration):
            continue
    return total


def bench_idle_rss(idle: float) -> tuple[int, int]:
    """A kernel's RSS plus its children's `idle` seconds (+ margin) after its last message and
    live edit: one with an empty profile vs one with the extension, both having run the same
    long cell (which, with the extension, sent a live message, edits and the final message)."""
    from jupyter_client.manager import start_new_kernel

    os.environ["JUPYTER_HELPERS_SENDER_IDLE"] = str(idle)
    config = Path(os.environ["IPYTHONDIR"]) / "profile_bench" / "ipython_kernel_config.py"
    config.write_text("c.AutoNotify.after = 1\nc.AutoNotify.live = 1\nc.AutoNotify.live_every = 1\n")
    fake = FakeTelegramProcess(Path(os.environ["HOME"]))
    os.environ.update(fake.env)
    kernels = []
    try:
        for profile in ("plain", "bench"):
            manager, client = start_new_kernel(
                kernel_name="python3", extra_arguments=[f"--profile={profile}"], stderr=subprocess.DEVNULL
            )
            kernels.append((manager, client))
            code = "import time\nfor i in range(8):\n    print(f'step {i}')\n    time.sleep(0.5)"
            client.execute_interactive(code, timeout=120, output_hook=lambda msg: None)
            if profile == "bench":  # it sent its live message and its final one (edits are not counted)
                fake.arrival(lambda: None)
                fake.arrival(lambda: None)
        time.sleep(idle + 15)  # the warm child leaves `idle` s after the last message (it polls every 5 s)
        return tuple(rss_with_children(manager.provisioner.process.pid) for manager, _ in kernels)  # type: ignore[return-value]
    finally:
        for manager, client in kernels:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
        fake.stop()
        config.unlink()
        os.environ.pop("JUPYTER_HELPERS_SENDER_IDLE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="IPython starts per variant (default 20)")
    parser.add_argument("--kernels", type=int, default=6, help="kernel starts per variant (default 6)")
    parser.add_argument("--cells", type=int, default=2000, help="short cells per variant (default 2000)")
    parser.add_argument("--sends", type=int, default=15, help="messages per delivery variant (default 15)")
    parser.add_argument(
        "--memory-seconds", type=float, default=10.0, help="seconds of a running cell and of idling (default 10)"
    )
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="count instructions with valgrind instead (steady on a busy machine; ~5 min)",
    )
    parser.add_argument("--edits", type=int, default=30, help="live message edits measured (default 30)")
    parser.add_argument(
        "--idle",
        type=float,
        default=300.0,
        help="the warm child's idle time for the memory row (default 300 s, as users get; the row waits that long)",
    )
    parser.add_argument("--live-only", action="store_true", help="only the live message rows (edit cost, memory)")
    parser.add_argument("--serve-fake-telegram", metavar="DIR", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake_telegram:
        return serve_fake_telegram(args.serve_fake_telegram)
    home = Path(tempfile.mkdtemp(prefix="jh-bench-"))
    isolate(home)
    if args.instructions:
        return print_instructions(bench_instructions())
    if args.live_only:
        return print_live_rows(args.edits, args.idle)

    plain, installed = bench_ipython_start(args.runs)
    kernel_plain, kernel_installed = bench_kernel_start(args.kernels)
    without, with_ext, hooks = bench_cells(args.cells)
    memory = bench_memory_watch(args.memory_seconds, args.cells)
    delivery = bench_delivery(args.sends)
    print(f"{'measure (medians, interleaved)':56} {'baseline':>12} {'jupyter-helpers':>16} {'ratio':>8}")
    rows = [
        ("IPython start, wall (empty profile vs installed)", plain[0], installed[0]),
        ("IPython start, CPU (empty profile vs installed)", plain[1], installed[1]),
        ("kernel start to kernel_info, wall (empty vs installed)", kernel_plain[0], kernel_installed[0]),
        ("kernel start+stop, CPU (empty vs installed)", kernel_plain[1], kernel_installed[1]),
        ("short cell in-process, wall (no extension vs loaded)", without[0], with_ext[0]),
        ("short cell in-process, CPU (no extension vs loaded)", without[1], with_ext[1]),
        ("submit -> at fake Telegram (in-process ntfy vs warm)", delivery["ntfy"], delivery["warm"]),
        ("submit -> at fake Telegram (direct HTTPS POST vs warm)", delivery["post"], delivery["warm"]),
        ("CPU per message (fresh child vs warm child)", delivery["fresh_cpu"], delivery["warm_cpu"]),
        ("first message (child started by it vs at the crossing)", delivery["first_cold"], delivery["first_warmed"]),
    ]
    for label, base, ours in rows:
        print(f"{label:56} {base * 1e3:10.3f}ms {ours * 1e3:14.3f}ms {ours / base:8.3f}")
    print(f"{'short cell CPU: extension minus none':56} {'':>12} {(with_ext[1] - without[1]) * 1e6:14.2f}µs")
    print(f"{'both hooks alone, per short cell (wall)':56} {'':>12} {hooks * 1e6:14.2f}µs")
    print(f"{'memory hooks alone, per short cell (wall)':56} {'':>12} {memory['hooks'] * 1e6:14.2f}µs")
    print(f"{'memory sampling while a cell runs, share of a core':56} {'0.1000%':>12} {memory['busy']:15.4%}")
    print(f"{'memory sampling while idle, share of a core':56} {'0':>12} {memory['idle']:15.4%}")
    print_live_rows(args.edits, args.idle)


def print_live_rows(edits: int, idle: float) -> None:
    edit_cpu = bench_edits(edits)
    plain_rss, ours_rss = bench_idle_rss(idle)
    print(f"{'kernel CPU per live message edit (limit 1 ms)':56} {'':>12} {edit_cpu * 1e3:14.3f}ms")
    label = f"kernel+children RSS {idle:g} s after the last message"
    print(f"{label:56} {plain_rss / 1e6:10.1f}MB {ours_rss / 1e6:14.1f}MB {ours_rss / plain_rss:8.3f}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2-core machines: above 2, wall times are noisy)")


if __name__ == "__main__":
    main()
