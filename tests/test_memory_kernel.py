"""Memory before the OOM killer (issue 26), through real kernels in a real memory cgroup: the kernel
started inside a fresh v1 cgroup (v2 where the machine has it) with a small limit, by a kernelspec
that joins it before exec, as on a hub or in a container; messages through the real ntfy chain to
the fake Bot API. The cells grow memory about 200 MB/s (20 MB every 0.1 s)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN
from support.cgroups import Cgroup, install_kernel_in, memory_limited_cgroup
from support.kernels import kernel_config
from support.notebooks import error_names, open_kernel, run_notebook, save_notebook, stream_text

MB = 1024**2


def growing(cgroup: Cgroup, until: float | None) -> str:
    """A cell that grows memory 20 MB every 0.1 s until the cgroup's working set (read by the cell
    itself, from the cgroup's files) reaches `until` of the limit, or for ever."""
    limit = int((cgroup.folder / ("memory.limit_in_bytes" if cgroup.version == 1 else "memory.max")).read_text())
    stop = f"working_set() >= {until} * {limit}" if until else "False"
    usage, inactive = (
        ("memory.usage_in_bytes", "total_inactive_file")
        if cgroup.version == 1
        else (
            "memory.current",
            "inactive_file",
        )
    )
    return (
        "import time\n"
        "def working_set():\n"
        f"    stat = dict(l.split() for l in open({str(cgroup.folder / 'memory.stat')!r}))\n"
        f"    return int(open({str(cgroup.folder / usage)!r}).read()) - int(stat[{inactive!r}])\n"
        "chunks = []\n"
        f"while not ({stop}):\n"
        f"    chunks.append(bytearray(20 * {MB}))\n"
        "    time.sleep(0.1)\n"
    )


def growing_until_interrupted(cgroup: Cgroup, handler: str) -> str:
    """`growing(cgroup, None)` inside `try`, and `handler` (a block of 4-space indented lines)
    run on its KeyboardInterrupt: a loop that saves a checkpoint on Ctrl-C."""
    body = "".join(f"    {line}\n" for line in growing(cgroup, until=None).splitlines())
    return "try:\n" + body + "except KeyboardInterrupt:\n" + handler


@pytest.fixture
def limited(kernel_home: Path, home: Path):
    """(cgroup, kernel name): a 600 MB cgroup and a kernelspec whose kernels start in it."""
    with memory_limited_cgroup(600 * MB) as cgroup:
        yield cgroup, install_kernel_in(cgroup, home / ".local/share/jupyter")


# A cell's function listing the kernel's delivery children (its own, by parent pid).
DELIVERY_CHILDREN = (
    "import os\n"
    "def delivery_children():\n"
    "    found = []\n"
    "    for pid in filter(str.isdigit, os.listdir('/proc')):\n"
    "        try:\n"
    "            stat = open(f'/proc/{pid}/stat').read()\n"
    "            command = open(f'/proc/{pid}/cmdline', 'rb').read()\n"
    "        except OSError:\n"
    "            continue\n"
    "        if int(stat.rsplit(')', 1)[1].split()[1]) == os.getpid() and b'jupyter_helpers.delivery' in command:\n"
    "            found.append(pid)\n"
    "    return found\n"
)


def brain(texts: list[str]) -> list[str]:
    return [text for text in texts if text.startswith("🧠")]


def test_a_cell_growing_past_memory_warn_sends_one_message_with_figures_and_rate(
    limited: tuple[Cgroup, str], kernel_home: Path, telegram, home: Path
) -> None:
    cgroup, kernel = limited
    kernel_config(home, "c.AutoNotify.memory_warn = 0.6\n")
    nb = run_notebook([growing(cgroup, until=0.75), "len(chunks) > 5"], kernel_home, kernel_name=kernel)
    assert error_names(nb.cells[0]) == [] and nb.cells[1].outputs[0]["data"]["text/plain"] == "True"
    texts = brain(telegram.wait_for(1))
    time.sleep(1)  # and no second one
    assert len(brain(telegram.texts())) == 1, telegram.texts()
    first, rate, advice, host = texts[0].splitlines()
    # "🧠 analysis.ipynb: cell [1] at 61% memory, 366 MB of 600 MB"
    head, _, figures = first.partition(" memory, ")
    assert head.startswith("🧠 analysis.ipynb: cell [1] at ") and head.endswith("%"), first
    assert 60 <= int(head.rsplit(" ", 1)[1][:-1]) <= 75, first
    assert figures.endswith(" MB of 600 MB"), first
    # "Grew 120 MB in 0.7 s (180 MB/s)."
    assert rate.startswith("Grew ") and rate.endswith(" MB/s)."), rate
    per_second = int(rate.rsplit("(", 1)[1].split()[0])
    assert 50 <= per_second <= 400, rate
    assert advice.endswith(
        "`%autonotify --memory-interrupt 0.95` (c.AutoNotify.memory_interrupt) interrupts the cell first."
    )
    assert host.startswith("Host: ")
    assert cgroup.oom_kills() == 0


def test_a_cell_nearing_memory_warn_has_the_delivery_child_started_before_the_message(
    limited: tuple[Cgroup, str], kernel_home: Path, telegram, home: Path
) -> None:
    """A 🧠 message must not wait for a child to start near the limit: one still loading when the OOM
    killer took its kernel was the next process taken (a loaded CI run lost the message so). The
    cell stops at half the limit, near a warning at 0.8 but under it, long before its threshold."""
    cgroup, kernel = limited
    kernel_config(home, "c.AutoNotify.memory_warn = 0.8\n")
    children = "import time\ntime.sleep(0.5)\n" + DELIVERY_CHILDREN + "len(delivery_children())"
    nb = run_notebook([growing(cgroup, until=0.5), children], kernel_home, kernel_name=kernel)
    assert error_names(nb.cells[0]) == [] and error_names(nb.cells[1]) == []
    assert nb.cells[1].outputs[0]["data"]["text/plain"] == "1"
    assert brain(telegram.texts()) == [] and cgroup.oom_kills() == 0


def test_a_quiet_cell_near_a_level_starts_no_delivery_child(
    limited: tuple[Cgroup, str], kernel_home: Path, telegram, home: Path
) -> None:
    """The child counts toward the cgroup's limit: it starts for memory heading for a level, not for
    a cell that merely sits near one (380 MB of 600 MB, memory_warn 0.9)."""
    cgroup, kernel = limited
    with open_kernel(kernel_home, kernel_name=kernel) as execute:
        execute(DELIVERY_CHILDREN + f"data = b'x' * (340 * {MB})")
        cell = execute("import time\ntime.sleep(1.5)\nlen(delivery_children())")
    assert error_names(cell) == [] and cell.outputs[0]["data"]["text/plain"] == "0"
    assert brain(telegram.texts()) == [] and cgroup.oom_kills() == 0


def test_memory_interrupt_ends_the_cell_and_the_kernel_keeps_its_variables(
    limited: tuple[Cgroup, str], kernel_home: Path, telegram, home: Path
) -> None:
    cgroup, kernel = limited
    kernel_config(home, "c.AutoNotify.memory_warn = 0.6\nc.AutoNotify.memory_interrupt = 0.8\n")
    with open_kernel(kernel_home, kernel_name=kernel) as execute:
        grown = execute(growing(cgroup, until=None))
        assert error_names(grown) == ["KeyboardInterrupt"]
        notice = stream_text(grown, "stderr")
        assert "jupyter-helpers: interrupted cell [1] at 8" in notice, notice
        assert "its variables are kept. `%autonotify --memory-interrupt 0` turns this off" in notice, notice
        kept = execute("time.sleep(0.6); len(chunks)")  # a new run, above the levels, not growing
        assert error_names(kept) == []
        count = int(kept.outputs[-1]["data"]["text/plain"])
        assert count >= 10
        time.sleep(1)
    assert cgroup.oom_kills() == 0
    texts = brain(telegram.wait_for(2))
    time.sleep(1)
    texts = brain(telegram.texts())
    assert len(texts) == 2, texts
    warned = next(text for text in texts if " interrupted at " not in text)
    stopped = next(text for text in texts if " interrupted at " in text)
    assert warned.startswith("🧠 analysis.ipynb: cell [1] at "), warned
    assert (
        "At 80% the cell is interrupted (c.AutoNotify.memory_interrupt), so the kernel keeps its variables." in warned
    )
    first = stopped.splitlines()[0]
    assert first.startswith("🧠 analysis.ipynb: cell [1] interrupted at 8"), first
    assert first.endswith(" MB of 600 MB; its variables are kept"), first
    assert "`%autonotify --memory-interrupt F` (0 turns it off) or c.AutoNotify.memory_interrupt." in stopped


def test_a_limit_lowered_while_the_cell_runs_moves_the_interrupt_before_the_oom_killer(
    limited: tuple[Cgroup, str], kernel_home: Path, telegram, home: Path
) -> None:
    """The limit was read once per run: lowered from 600 to 400 MB while a cell grew (an in-place
    pod resize), the cell went on to the OOM killer, judged against 600 MB."""
    cgroup, kernel = limited
    kernel_config(home, "c.AutoNotify.memory_interrupt = 0.95\n")
    lower = f"open({str(cgroup.folder / 'memory.limit_in_bytes')!r}, 'w').write(str(400 * {MB}))\n"
    with open_kernel(kernel_home, kernel_name=kernel) as execute:
        grown = execute("import time\ntime.sleep(0.5)\n" + lower + growing(cgroup, until=None))
        assert error_names(grown) == ["KeyboardInterrupt"]
        assert "jupyter-helpers: interrupted cell [1] at 9" in stream_text(grown, "stderr")
        assert " MB of 400 MB) before the OOM killer" in stream_text(grown, "stderr")
    assert cgroup.oom_kills() == 0


def test_a_cell_that_catches_the_interrupt_and_grows_on_is_interrupted_again(
    limited: tuple[Cgroup, str], kernel_home: Path, telegram, home: Path
) -> None:
    """A training loop that saves on Ctrl-C: it catches the memory interrupt and goes on growing.
    The watch stopped looking after its first interrupt, and the OOM killer took the kernel whose
    🧠 message had said its variables were kept."""
    cgroup, kernel = limited
    kernel_config(home, "c.AutoNotify.memory_warn = 0.6\nc.AutoNotify.memory_interrupt = 0.8\n")
    caught = growing_until_interrupted(  # saves a checkpoint, say, and goes on
        cgroup,
        "    del chunks[-8:]\n"
        + f"    while True:\n        chunks.append(bytearray(20 * {MB}))\n        time.sleep(0.1)\n",
    )
    with open_kernel(kernel_home, kernel_name=kernel) as execute:
        cell = execute(caught)
        assert error_names(cell) == ["KeyboardInterrupt"]
        assert stream_text(cell, "stderr").count("jupyter-helpers: interrupted cell [1] at 8") == 2
    assert cgroup.oom_kills() == 0
    texts = brain(telegram.wait_for(2))
    time.sleep(1)  # and no third: one interrupt message per run
    assert len(brain(telegram.texts())) == 2, telegram.texts()
    assert sum(" interrupted at " in text for text in texts) == 1, texts


def test_a_handler_saving_on_the_interrupt_gets_half_the_room_left(
    limited: tuple[Cgroup, str], kernel_home: Path, telegram, home: Path
) -> None:
    """A loop that saves a checkpoint on Ctrl-C: the save needs memory too. Interrupted again at 1%
    more growth, the save itself was interrupted; now a second interrupt waits until half the room
    between the first one and the limit is used."""
    cgroup, kernel = limited
    kernel_config(home, "c.AutoNotify.memory_warn = 0.6\nc.AutoNotify.memory_interrupt = 0.75\n")
    saving = growing_until_interrupted(
        cgroup,
        f"    for _ in range(2):\n        chunks.append(bytearray(10 * {MB}))\n        time.sleep(0.3)\n"
        "    print('saved')\n",
    )
    with open_kernel(kernel_home, kernel_name=kernel) as execute:
        cell = execute(saving)
    assert error_names(cell) == [] and stream_text(cell, "stdout") == "saved\n"
    assert stream_text(cell, "stderr").count("jupyter-helpers: interrupted cell [1]") == 1
    assert cgroup.oom_kills() == 0


def test_a_large_file_read_once_is_page_cache_not_the_kernels_memory(
    limited: tuple[Cgroup, str], kernel_home: Path, telegram, home: Path, tmp_path: Path
) -> None:
    """The control: reading a file larger than the limit fills the cgroup with page cache (its
    usage reaches the limit), but inactive file cache is not counted: no warning, no interrupt."""
    cgroup, kernel = limited
    kernel_config(home, "c.AutoNotify.memory_warn = 0.5\nc.AutoNotify.memory_interrupt = 0.8\n")
    data = Path(os.environ["HOME"]).parent / "big.bin"  # on disk (not tmpfs)
    with data.open("wb") as out:
        for _ in range(900 // 8):
            out.write(os.urandom(8 * MB))
        out.flush()
        os.fsync(out.fileno())
        os.posix_fadvise(out.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)  # read from disk, charged to the cgroup
    source = (
        "import time\n"
        f"with open({str(data)!r}, 'rb', buffering=0) as f:\n"
        f"    while f.read({8 * MB}):\n"
        "        time.sleep(0.005)\n"
        "'read'"
    )
    nb = run_notebook([source], kernel_home, kernel_name=kernel)
    assert error_names(nb.cells[0]) == [] and nb.cells[0].outputs[-1]["data"]["text/plain"] == "'read'"
    assert cgroup.peak_usage() >= 0.8 * 600 * MB  # the cache did fill the cgroup past both levels
    time.sleep(2)
    assert brain(telegram.texts()) == []
    data.unlink()


def test_an_nbconvert_job_in_the_cgroup_is_warned(kernel_home: Path, telegram, home: Path) -> None:
    job = kernel_home / "job.ipynb"
    kernel_config(home, "c.AutoNotify.memory_warn = 0.6\n")
    with memory_limited_cgroup(600 * MB) as cgroup:
        save_notebook(job, [growing(cgroup, until=0.75), "len(chunks)"])
        env = {k: v for k, v in os.environ.items() if k != "JPY_SESSION_NAME"}
        done = subprocess.run(
            [*cgroup.joining(), str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute", str(job)],
            cwd=kernel_home,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr
        assert cgroup.oom_kills() == 0
    texts = brain(telegram.wait_for(1))
    assert len(texts) == 1 and texts[0].startswith("🧠 job.ipynb: cell [1] at "), texts


def test_the_magic_sets_both_levels_checks_them_as_a_pair_and_status_shows_the_limit(
    limited: tuple[Cgroup, str], kernel_home: Path, telegram
) -> None:
    _, kernel = limited
    nb = run_notebook(
        [
            "%autonotify --status",
            "%autonotify --memory-warn 1.5",
            "%autonotify --memory-interrupt abc",
            "%autonotify --memory-warn 0.8 --memory-interrupt 0.7",
            "%autonotify --memory-warn 0.8 --memory-interrupt 0.9",
            "%autonotify --memory-warn 0.95",  # not above the interrupt any more: refused, kept
            "%autonotify --memory-warn 0 --memory-interrupt 0 --status",
            "print(get_ipython().find_line_magic('autonotify').__doc__)",
        ],
        kernel_home,
        kernel_name=kernel,
    )
    out = [stream_text(cell) for cell in nb.cells]
    errors = [stream_text(cell, "stderr") for cell in nb.cells]
    assert (
        "memory: cgroup v1 limit 600 MB; a message at 90% (--memory-warn), "
        "no interrupt before the OOM killer (--memory-interrupt)\n"
    ) in out[0], out[0]
    assert errors[1] == ("UsageError: argument --memory-warn: a fraction from 0 to 0.99 (0 turns it off), got '1.5'\n")
    assert errors[2] == "UsageError: argument --memory-interrupt: expected a fraction, got 'abc' (e.g. 0.9)\n"
    assert errors[3] == (
        "UsageError: %autonotify: --memory-interrupt 0.7 must be above --memory-warn 0.8 (or 0, off), "
        "e.g. --memory-warn 0.9 --memory-interrupt 0.95\n"
    )
    assert "; a message at 80% (--memory-warn), the cell interrupted at 90% (--memory-interrupt)\n" in out[4]
    assert errors[5].startswith("UsageError: %autonotify: --memory-interrupt 0.9 must be above --memory-warn 0.95")
    assert "; no message (--memory-warn), no interrupt before the OOM killer (--memory-interrupt)\n" in out[6]
    assert "--memory-warn F" in out[7] and "--memory-interrupt F" in out[7], out[7]
