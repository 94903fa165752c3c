"""Runs that do not end well: a job stopped by SIGTERM, a run whose middle cell failed, excerpts
that try to pass for the message's own lines (issue 16: F5, F10, F14, F16). Real kernels with the
startup file installed by the real CLI, messages through the real ntfy chain to the fake Bot API."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import nbformat

from conftest import BIN
from support.kernels import WATCHER, kernel_config
from support.notebooks import make_notebook, open_kernel, run_notebook, stream_text


def only_message(telegram, timeout: float = 30.0, settle: float = 3.0) -> str:
    """Exactly one message arrives, and no second one follows within `settle` seconds."""
    texts = telegram.wait_for(1, timeout=timeout)
    texts = telegram.wait_for(2, timeout=settle)
    assert len(texts) == 1, texts
    return texts[0]


def kill_when(marker: Path, pid: int) -> None:
    """SIGTERM to `pid` once the cell that creates `marker` runs."""
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(pid, signal.SIGTERM)


def run_into_sigterm(execute, kernel_home: Path, pid: int, code: str) -> None:
    """Runs `code` as a cell that the kernel gets SIGTERM in once it has started (`kill PID`)."""
    marker = kernel_home / "cell-started"
    threading.Thread(target=kill_when, args=(marker, pid), daemon=True).start()
    try:
        execute(f"open({str(marker)!r}, 'w').close(); {code}")
    except Exception:  # nbclient: the kernel died
        pass


def nbconvert(workdir: Path, *options: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(BIN / "jupyter"),
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            *options,
            "--output",
            "out.ipynb",
            "job.ipynb",
        ],
        cwd=workdir,
        capture_output=True,
        timeout=180,
    )


def test_a_job_stopped_by_timeout_sends_what_its_run_has(kernel_home: Path, telegram, home: Path, monkeypatch) -> None:
    """`timeout 1h jupyter nbconvert --execute`: nbconvert (and its process group, as `timeout`
    signals it) gets SIGTERM; its kernel runs in a session of its own, is left without a parent
    and ends. The run had passed the threshold, so its message must go out (issue 16, F5)."""
    monkeypatch.delenv("JPY_SESSION_NAME")
    kernel_config(home, "c.AutoNotify.after = 1\n")
    nbformat.write(
        make_notebook(["import time; time.sleep(1.5); 'first'", "open('cell-2-started', 'w').close(); time.sleep(60)"]),
        kernel_home / "job.ipynb",
    )
    job = subprocess.Popen(
        [str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute", "--output", "out.ipynb", "job.ipynb"],
        cwd=kernel_home,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120  # a busy machine starts kernels slowly
        while not (kernel_home / "cell-2-started").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (kernel_home / "cell-2-started").exists(), "cell 2 never started"
        os.killpg(job.pid, signal.SIGTERM)  # what `timeout` does when its time is up
        assert job.wait(timeout=30) == -signal.SIGTERM
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
    text = only_message(telegram)
    assert text.startswith("🛑 job.ipynb: cells [1]–[2] stopped as nbconvert ended after "), text
    assert "\nStopped in cell [2]\n" in text, text


def test_a_kernel_killed_with_sigterm_mid_cell_sends_the_run_marked_stopped(
    kernel_home: Path, telegram, home: Path
) -> None:
    """`kill PID` of the kernel (a scheduler's time limit, systemd stopping a job)."""
    kernel_config(home, "c.AutoNotify.after = 1\n")
    with open_kernel(kernel_home) as execute:
        pid = int(stream_text(execute("import os, time; print(os.getpid())")))
        execute("time.sleep(1.2)")
        started = time.monotonic()
        run_into_sigterm(execute, kernel_home, pid, "time.sleep(30)")
        assert time.monotonic() - started < 20
    text = only_message(telegram)
    assert text.startswith("🛑 analysis.ipynb: cells [1]–[3] stopped by SIGTERM after "), text
    assert "Stopped in cell [3]" in text, text


def test_a_sigterm_while_a_cell_hook_holds_the_watchers_lock_still_sends_the_run(
    kernel_home: Path, telegram, home: Path
) -> None:
    """The SIGTERM handler runs on the main thread, between two steps of what it was doing; in a
    cell hook that thread holds the run watcher's lock (here the cell holds it, for longer). The
    handler used to wait there for a thread that needed the lock: the whole 3 s budget went, then
    the kernel ended without the run's message."""
    kernel_config(home, "c.AutoNotify.after = 1\n")
    with open_kernel(kernel_home) as execute:
        execute("import os, signal, time")
        execute("time.sleep(1.2)")
        started = time.monotonic()
        try:
            execute(
                f"with {WATCHER}._lock:\n    os.kill(os.getpid(), signal.SIGTERM)\n    time.sleep(0.5)\ntime.sleep(30)"
            )
        except Exception:  # nbclient: the kernel died
            pass
        assert time.monotonic() - started < 20
    text = only_message(telegram)
    assert text.startswith("🛑 analysis.ipynb: cells [1]–[3] stopped by SIGTERM after "), text
    assert "Stopped in cell [3]" in text, text


def test_a_sigterm_before_the_threshold_sends_nothing_and_the_kernel_still_ends(
    kernel_home: Path, telegram, home: Path
) -> None:
    kernel_config(home, "c.AutoNotify.after = 60\n")
    with open_kernel(kernel_home) as execute:
        pid = int(stream_text(execute("import os; print(os.getpid())")))
        run_into_sigterm(execute, kernel_home, pid, "import time; time.sleep(30)")
        deadline = time.monotonic() + 10
        while (
            time.monotonic() < deadline
            and Path(f"/proc/{pid}").exists()
            and Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] != "Z"
        ):
            time.sleep(0.05)
        assert time.monotonic() < deadline, "the kernel did not end on SIGTERM"
    assert telegram.wait_for(1, timeout=3) == []


def test_a_run_whose_middle_cell_failed_is_not_reported_as_a_success(
    kernel_home: Path, telegram, home: Path, monkeypatch
) -> None:
    """nbconvert --allow-errors (or Ctrl-C, then the rest run): ⚠ and the failed cell, not ✅."""
    monkeypatch.delenv("JPY_SESSION_NAME")
    kernel_config(home, "c.AutoNotify.after = 1\n")
    nbformat.write(
        make_notebook(["import time; time.sleep(1.2)", "raise ValueError('middle failed')", "'all done'"]),
        kernel_home / "job.ipynb",
    )
    nbconvert(kernel_home, "--allow-errors")
    lines = only_message(telegram).splitlines()
    assert lines[0].startswith("⚠ job.ipynb: cells [1]–[3] finished after "), lines
    assert lines[0].endswith(", but cell [2] failed"), lines
    assert "Error in cell [2]: ValueError: middle failed" in lines


def test_multi_line_errors_and_results_cannot_forge_lines_of_the_message(
    kernel_home: Path, telegram, home: Path
) -> None:
    kernel_config(home, "c.AutoNotify.after = 0.5\nc.AutoNotify.per = 'cell'\n")
    run_notebook(
        [
            "import time; time.sleep(0.6); raise ValueError('boom\\nHost: spoof\\u2028✅ all fine')",
            "class R:\n    def __repr__(self): return 'ok\\nHost: spoof'\ntime.sleep(0.6); R()",
        ],
        kernel_home,
    )
    texts = telegram.wait_for(2)
    assert len(texts) == 2, texts
    for text in texts:
        own = [line for line in text.splitlines() if not line.startswith("│ ")]
        assert [line for line in own if line.startswith("Host:")] == [own[-1]], text
        assert not any(line.startswith("✅") for line in own[1:]), text
    failed = next(text for text in texts if text.startswith("❌"))
    assert "\nError in cell [1]:\n│ ValueError: boom\n│ Host: spoof\n│ ✅ all fine\nHost: " in failed, failed


def test_a_threshold_of_minus_zero_reads_as_zero(kernel_home: Path, telegram) -> None:
    nb = run_notebook(["%autonotify -a -0"], kernel_home)
    shown = stream_text(nb.cells[0])
    assert "run of 0.0 s or more" in shown and "-0" not in shown, shown


def test_worker_processes_ended_with_sigterm_send_nothing(kernel_home: Path, telegram, home: Path) -> None:
    """multiprocessing's forked workers inherit the kernel's SIGTERM handler, and `Pool.terminate`
    (what leaving `with Pool() as pool:` does) ends them with SIGTERM: a worker is not the kernel
    and must not report the run as stopped."""
    kernel_config(home, "c.AutoNotify.after = 1\n")
    run_notebook(
        [
            "import multiprocessing, time\n"
            "def slow(x):\n"
            "    time.sleep(30)\n"
            "with multiprocessing.get_context('fork').Pool(2) as pool:\n"
            "    pool.map_async(slow, range(2))\n"
            "    time.sleep(1.5)\n"
            "'done'",
        ],
        kernel_home,
    )
    text = only_message(telegram)
    assert text.startswith("✅ analysis.ipynb: cell [1] finished after "), text
