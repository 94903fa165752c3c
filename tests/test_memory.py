"""The memory probe (common/memory.py), the decisions and texts of the kernel's memory watch, and its
settings, in-process. The cgroup trees here are FAKE: folders and files laid out as the kernel lays
out /proc and /sys/fs/cgroup (cgroup v2 as most users' machines and pods have it, v1, a container
without a cgroup namespace), so that v2 is tested on these v1 machines. The real cgroup, real
kernels and real OOM kills are in test_memory_kernel.py and test_kernel_deaths.py."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

from jupyter_helpers.common.memory import (
    LimitChanged,
    Reading,
    Sampler,
    find_source,
    oom_counter,
    oom_kills,
    peak_file,
    size,
    take_peak,
    write_peak,
)
from jupyter_helpers.kernel.memory import FAST, SLOW, MemoryWatch, judge, next_look, warm_now
from jupyter_helpers.kernel.message import MemoryRecord, compose_memory
from jupyter_helpers.kernel.settings import AutoNotify

GB, MB = 1024**3, 1024**2
MEMINFO = "MemTotal:       32768000 kB\nMemFree:         1000000 kB\nMemAvailable:   24576000 kB\n"


def fake_root(tmp_path: Path, cgroup: str, files: dict[str, str], meminfo: str = MEMINFO) -> Path:
    """A fake `/`: /proc/self/cgroup says `cgroup`, /proc/meminfo `meminfo`, and `files` (paths
    below /sys/fs/cgroup) hold what the kernel would show."""
    root = tmp_path / "root"
    (root / "proc/self").mkdir(parents=True)
    (root / "proc/self/cgroup").write_text(cgroup)
    (root / "proc/meminfo").write_text(meminfo)
    for name, text in files.items():
        path = root / "sys/fs/cgroup" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def v2_pod(tmp_path: Path, container_max: str = "max", pod_max: str = str(8 * GB)) -> Path:
    """A v2 pod: the container's cgroup without a limit of its own, its pod's at 8 GB."""
    pod, container = "kubepods.slice/pod1", "kubepods.slice/pod1/ctr"
    return fake_root(
        tmp_path,
        "0::/kubepods.slice/pod1/ctr\n",
        {
            "cgroup.procs": "",
            "kubepods.slice/cgroup.procs": "",
            "kubepods.slice/memory.max": "max\n",
            f"{pod}/cgroup.procs": "",
            f"{pod}/memory.max": pod_max + "\n",
            f"{pod}/memory.current": str(7 * GB) + "\n",
            f"{pod}/memory.stat": f"anon {6 * GB}\nfile {GB}\nactive_file {GB // 2}\ninactive_file {GB // 2}\n",
            f"{pod}/memory.events": "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\n",
            f"{container}/cgroup.procs": "1\n",
            f"{container}/memory.max": container_max + "\n",
            f"{container}/memory.current": str(6 * GB) + "\n",
            f"{container}/memory.stat": f"anon {5 * GB}\ninactive_file {GB}\n",
            f"{container}/memory.events": "low 0\noom_kill 0\n",
        },
    )


def test_v2_the_lowest_limit_up_the_tree_and_its_working_set(tmp_path: Path) -> None:
    """FAKE v2 tree: the pod's 8 GB binds the container; use is the pod's usage minus inactive_file."""
    root = v2_pod(tmp_path)
    source, problem = find_source("self", root)
    assert problem is None and source is not None
    assert (source.kind, source.limit, source.folder.name) == ("cgroup v2", 8 * GB, "pod1")
    assert source.describe() == "cgroup v2 limit 8.0 GB"
    sampler = Sampler(source, root)
    assert sampler.read() == Reading(7 * GB - GB // 2, 8 * GB)
    (source.folder / "memory.current").write_text(str(int(7.5 * GB)))  # read afresh each time
    assert sampler.read().used == int(7.5 * GB) - GB // 2
    sampler.close()


def test_a_limit_changed_after_the_sampler_was_made_is_noticed_at_the_next_read(tmp_path: Path) -> None:
    """FAKE v2 tree: the pod resized in place while a cell runs; the sampler says so, and the
    source found again has the new limit."""
    root = v2_pod(tmp_path)
    source, _ = find_source("self", root)
    assert source is not None
    sampler = Sampler(source, root)
    assert sampler.read().limit == 8 * GB
    (source.folder / "memory.max").write_text(str(7 * GB + GB // 2) + "\n")
    with pytest.raises(LimitChanged):
        sampler.read()
    sampler.close()
    again, _ = find_source("self", root)
    assert again is not None and again.limit == 7 * GB + GB // 2


def test_v2_a_container_limit_below_the_pods_wins(tmp_path: Path) -> None:
    """FAKE v2 tree."""
    source, _ = find_source("self", v2_pod(tmp_path, container_max=str(6 * GB + 512 * MB)))
    assert source is not None and source.describe() == "cgroup v2 limit 6.5 GB" and source.folder.name == "ctr"


def test_no_limit_or_one_above_the_machine_means_the_machine(tmp_path: Path) -> None:
    """FAKE v2 tree with `max` everywhere, and a v1 cgroup whose limit is v1's 'none' value."""
    source, problem = find_source("self", v2_pod(tmp_path, pod_max="max"))
    assert problem is None and source is not None and source.describe() == "machine 31.2 GB"
    reading = Sampler(source, tmp_path / "root").read()
    assert reading == Reading((32768000 - 24576000) * 1024, 32768000 * 1024)
    v1 = fake_root(
        tmp_path / "v1",
        "4:memory:/user.slice\n0::/user.slice\n",
        {
            "memory/cgroup.procs": "",
            "memory/user.slice/cgroup.procs": "1\n",
            "memory/user.slice/memory.limit_in_bytes": "9223372036854771712\n",
        },
    )
    assert find_source("self", v1)[0].describe() == "machine 31.2 GB"  # type: ignore[union-attr]


def test_v1_limit_and_working_set_and_a_container_without_a_cgroup_namespace(tmp_path: Path) -> None:
    """FAKE v1 tree: /proc/self/cgroup names the host's path (/docker/abc) while the container
    sees its own cgroup at the mount's root: that one is used."""
    root = fake_root(
        tmp_path,
        "4:memory:/docker/abc\n1:cpu,cpuacct:/docker/abc\n0::/\n",
        {
            "memory/cgroup.procs": "1\n",
            "memory/memory.limit_in_bytes": str(600 * MB),
            "memory/memory.usage_in_bytes": str(590 * MB),
            "memory/memory.stat": f"cache {400 * MB}\ninactive_file 1\ntotal_cache {400 * MB}\n"
            f"total_inactive_file {380 * MB}\n",
            "memory/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n",
        },
    )
    source, problem = find_source("self", root)
    assert problem is None and source is not None and source.describe() == "cgroup v1 limit 600 MB"
    assert Sampler(source, root).read() == Reading(210 * MB, 600 * MB)  # page cache is not the kernel's
    counter = oom_counter("self", root)  # type: ignore[arg-type]
    assert counter is not None and counter.name == "memory.oom_control" and oom_kills(counter) == 3


def test_v2_oom_count(tmp_path: Path) -> None:
    """FAKE v2 tree: the process's own cgroup's memory.events, as the server reads it at a death."""
    counter = oom_counter("self", v2_pod(tmp_path))  # type: ignore[arg-type]
    assert counter is not None and counter.name == "memory.events" and oom_kills(counter) == 0
    assert oom_kills(None) is None and oom_kills(tmp_path / "missing") is None


def test_an_unreadable_cgroup_falls_back_to_the_machine_and_says_why(tmp_path: Path) -> None:
    """FAKE v2 tree whose pod `memory.stat` lacks inactive_file and a v1 one with a garbage limit."""
    root = v2_pod(tmp_path)
    (root / "sys/fs/cgroup/kubepods.slice/pod1/memory.stat").write_text("anon 1\n")
    source, problem = find_source("self", root)
    assert source is not None and source.describe() == "machine 31.2 GB"
    assert problem == (
        f"cannot read the memory cgroup {root}/sys/fs/cgroup/kubepods.slice/pod1/ctr "
        "(ValueError: no inactive_file in memory.stat)"
    )
    garbage = fake_root(
        tmp_path / "g",
        "4:memory:/\n",
        {"memory/cgroup.procs": "", "memory/memory.limit_in_bytes": "lots\n"},
    )
    source, problem = find_source("self", garbage)
    assert source is not None and source.kind == "machine" and problem and "ValueError" in problem


def test_nothing_to_read_is_none(tmp_path: Path) -> None:
    assert find_source("self", tmp_path) == (None, None)


def test_sizes() -> None:
    assert [size(n) for n in (548 * MB, 1023 * MB, 6.4 * GB, 8 * GB)] == ["548 MB", "1023 MB", "6.4 GB", "8.0 GB"]


def test_the_peak_file_is_taken_once_and_only_as_written(tmp_path: Path) -> None:
    kernel = "0b7c0d2a-8a47-4a3e-9d55-4b8a2b6c1e11"
    path = peak_file(tmp_path, kernel)
    assert path == tmp_path / "jupyter-helpers-memory" / f"{kernel}.json"
    write_peak(path, Reading(7 * GB, 8 * GB))
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    assert take_peak(path) == Reading(7 * GB, 8 * GB)
    assert not path.exists() and take_peak(path) is None
    path.write_text('{"peak": "7 GB", "limit": 1}')
    assert take_peak(path) is None
    with pytest.raises(ValueError):
        peak_file(tmp_path, "../../etc/passwd")


LIMIT = 1000 * MB


@pytest.mark.parametrize(
    "used, floor, warned, expected",
    [
        (899 * MB, 0, False, (False, False)),  # under both levels
        (900 * MB, 0, False, (True, False)),  # the warning
        (920 * MB, 0, True, (False, False)),  # once per run
        (950 * MB, 0, True, (False, True)),  # the interrupt
        (960 * MB, 0, False, (False, True)),  # both at once: only the interrupt (its message says it)
        (955 * MB, 951 * MB, False, (False, False)),  # a run starting above the levels that does not grow...
        (961 * MB, 951 * MB, True, (False, True)),  # ... is interrupted once it grows 1% more
        (912 * MB, 901 * MB, False, (True, False)),  # ... and warned
    ],
)
def test_judge(used: int, floor: int, warned: bool, expected: tuple[bool, bool]) -> None:
    assert tuple(judge(used, LIMIT, floor, 0.9, 0.95, warned)) == expected


def test_after_an_interrupt_the_next_one_waits_for_half_the_room_left() -> None:
    step = (LIMIT - 960 * MB) / 2  # interrupted at 960 MB: the next at 980 MB, not at 1% more
    assert tuple(judge(975 * MB, LIMIT, 960 * MB, 0.9, 0.95, True, step)) == (False, False)
    assert tuple(judge(980 * MB, LIMIT, 960 * MB, 0.9, 0.95, True, step)) == (False, True)
    assert tuple(judge(951 * MB, LIMIT, 940 * MB, 0.9, 0.95, True, step)) == (False, True)  # fell below, passed again


def test_judge_with_levels_off() -> None:
    assert tuple(judge(LIMIT - 1, LIMIT, 0, 0.0, 0.0, False)) == (False, False)
    assert tuple(judge(960 * MB, LIMIT, 0, 0.0, 0.95, False)) == (False, True)


def record(**changes: object) -> MemoryRecord:
    fields: dict = dict(
        notebook="train.ipynb",
        project="Project Alpha",
        cell=7,
        used=int(6.4 * GB),
        limit=int(7.1 * GB),
        grew=int(3.2 * GB),
        seconds=16.0,
        warn=0.9,
        interrupt=0.0,
        interrupted=False,
        host="vm",
    )
    fields.update(changes)
    return MemoryRecord(**fields)


def test_the_warning_names_the_interrupt_setting_when_it_is_off() -> None:
    text, title = compose_memory(record())
    assert text == (
        "🧠 train.ipynb (Project Alpha): cell [7] at 90% memory, 6.4 GB of 7.1 GB\n"
        "Grew 3.2 GB in 16.0 s (205 MB/s).\n"
        "At 100% the OOM killer ends the kernel and its variables are lost; "
        "`%autonotify --memory-interrupt 0.95` (c.AutoNotify.memory_interrupt) interrupts the cell first.\n"
        "Host: vm"
    )
    assert title == "train.ipynb (Project Alpha): cell [7] at 90% memory, 6.4 GB of 7.1 GB"


def test_the_warning_with_the_interrupt_on_and_a_steady_run() -> None:
    text, _ = compose_memory(record(interrupt=0.95, grew=0, notebook=None, project=None))
    assert text.splitlines()[1:3] == [
        "Steady for 16.0 s.",
        "At 95% the cell is interrupted (c.AutoNotify.memory_interrupt), so the kernel keeps its variables.",
    ]
    assert text.startswith("🧠 cell [7] at 90% memory")


def test_the_interrupt_message() -> None:
    text, _ = compose_memory(record(used=int(6.8 * GB), interrupt=0.95, interrupted=True))
    assert text.splitlines()[0] == (
        "🧠 train.ipynb (Project Alpha): cell [7] interrupted at 95% memory, 6.8 GB of 7.1 GB; its variables are kept"
    )
    assert text.splitlines()[2] == (
        "The OOM killer would have ended the kernel at 100%. Change the level with "
        "`%autonotify --memory-interrupt F` (0 turns it off) or c.AutoNotify.memory_interrupt."
    )


@pytest.mark.parametrize(
    "name, value, default",
    [
        ("memory_warn", 1.5, 0.9),
        ("memory_warn", -0.1, 0.9),
        ("memory_warn", "90%", 0.9),
        ("memory_interrupt", 1.0, 0.0),
    ],
)
def test_bad_memory_levels_give_the_default_and_one_line(name: str, value: object, default: float) -> None:
    config = Config()
    setattr(config.AutoNotify, name, value)
    settings = AutoNotify(config=config)
    assert getattr(settings, name) == default
    assert list(settings.notices) == [
        f"jupyter-helpers: c.AutoNotify.{name} = {value!r} is not a fraction from 0 to 0.99 (0 turns it off); "
        f"using {default!r}"
    ]


@pytest.mark.parametrize("order", [("memory_interrupt", "memory_warn"), ("memory_warn", "memory_interrupt")])
def test_an_interrupt_not_above_the_warning_is_off_with_one_line(order: tuple[str, str]) -> None:
    config = Config()
    values = {"memory_warn": 0.9, "memory_interrupt": 0.8}
    for name in order:  # in either order in the user's file
        setattr(config.AutoNotify, name, values[name])
    settings = AutoNotify(config=config)
    assert (settings.memory_warn, settings.memory_interrupt) == (0.9, 0.0)
    assert list(settings.notices) == [
        "jupyter-helpers: c.AutoNotify.memory_interrupt = 0.8 is not above memory_warn (0.9); using 0.0 (off); "
        "set memory_warn below it, or raise it above memory_warn"
    ]
    config.AutoNotify.memory_interrupt = 0.95
    assert AutoNotify(config=config).memory_interrupt == 0.95


@pytest.fixture
def shell(home: Path):
    shell = InteractiveShell.instance()
    shell.extension_manager.load_extension("jupyter_helpers")
    yield shell
    shell.extension_manager.unload_extension("jupyter_helpers")
    InteractiveShell.clear_instance()


def test_an_unreadable_cgroup_is_said_once_per_kernel(shell, tmp_path: Path, capsys) -> None:
    """A MemoryWatch on a FAKE tree whose cgroup cannot be read: the first run's notice says so
    under its cell, later runs say nothing more; while idle the sampler thread uses no CPU at all."""
    from jupyter_helpers.kernel import extension

    watcher = extension._active[id(shell)]
    root = v2_pod(tmp_path)
    (root / "sys/fs/cgroup/kubepods.slice/pod1/memory.current").write_text("")
    watch = MemoryWatch(watcher, root)
    shell.events.register("pre_run_cell", watch.pre_run_cell)
    shell.events.register("post_run_cell", watch.post_run_cell)
    try:
        for _ in range(3):
            shell.run_cell("import time; time.sleep(0.3)")
            time.sleep(1.1)  # a new run each time
        assert watch._thread is not None
        clock = time.pthread_getcpuclockid(watch._thread.ident)  # type: ignore[arg-type]
        idle_from = time.clock_gettime(clock)
        time.sleep(1.0)
        assert time.clock_gettime(clock) == idle_from  # no cell runs: the sampler is blocked, not polling
    finally:
        shell.events.unregister("pre_run_cell", watch.pre_run_cell)
        shell.events.unregister("post_run_cell", watch.post_run_cell)
        watch.close()
    notices = [line for line in capsys.readouterr().err.splitlines() if "memory cgroup" in line]
    assert notices == [
        f"jupyter-helpers: cannot read the memory cgroup {root}/sys/fs/cgroup/kubepods.slice/pod1/ctr "
        "(ValueError: invalid literal for int() with base 10: ''); memory is judged against the machine's 31.2 GB"
    ]
    watch._thread.join(timeout=5)
    assert not watch._thread.is_alive()  # close() ended it


def test_looks_come_faster_near_a_level() -> None:
    rate = 200 * MB
    assert next_look(100 * MB, LIMIT, rate, (0.9, 0.95)) == SLOW  # 800 MB to go
    assert next_look(750 * MB, LIMIT, rate, (0.9, 0.95)) == FAST  # within two slow looks at 400 MB/s
    assert next_look(750 * MB, LIMIT, rate, (0.0, 0.0)) == SLOW  # both off: only the peak is kept
    assert next_look(300 * MB, LIMIT, 2000 * MB, (0.9, 0.0)) == FAST  # growing 2 GB/s: 600 MB is near
    assert next_look(960 * MB, LIMIT, 0.0, (0.0, 0.95)) == FAST  # above it (a run after an interrupt)


def test_the_delivery_child_starts_for_memory_heading_for_a_level() -> None:
    rate = 200 * MB  # bytes/s
    assert warm_now(700 * MB, LIMIT, rate, (0.9, 0.0))  # 0.9 GB two seconds away at 200 MB/s
    assert not warm_now(300 * MB, LIMIT, rate, (0.9, 0.0))  # three seconds away
    assert not warm_now(850 * MB, LIMIT, 0.0, (0.9, 0.0))  # near but not growing: the child would carry it past
    assert not warm_now(850 * MB, LIMIT, -rate, (0.9, 0.0))  # freeing memory
    assert not warm_now(950 * MB, LIMIT, rate, (0.9, 0.0))  # past the level: its message starts the child
    assert warm_now(920 * MB, LIMIT, rate, (0.9, 0.95))  # the interrupt ahead
    assert not warm_now(700 * MB, LIMIT, rate, (0.0, 0.0))  # both off
