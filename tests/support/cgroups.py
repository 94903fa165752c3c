"""Real memory cgroups for tests (root on a machine with a writable cgroup file system): a fresh one
with a limit, and ways to start a process inside it."""

from __future__ import annotations

import json
import shlex
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from support.waiting import wait_until


@dataclass(frozen=True)
class Cgroup:
    folder: Path
    version: int  # 1 or 2

    @property
    def procs(self) -> Path:
        return self.folder / "cgroup.procs"

    def joining(self) -> list[str]:
        """A command prefix that moves the process into this cgroup, then execs its arguments."""
        return ["sh", "-c", f'echo $$ > {shlex.quote(str(self.procs))} && exec "$@"', "sh"]

    def working_set(self) -> int:
        """Usage minus inactive file cache, as the kubelet counts it, read here independently."""
        usage, inactive = (
            ("memory.usage_in_bytes", "total_inactive_file")
            if self.version == 1
            else (
                "memory.current",
                "inactive_file",
            )
        )
        stat = dict(line.split() for line in (self.folder / "memory.stat").read_text().splitlines())
        return int((self.folder / usage).read_text()) - int(stat[inactive])

    def peak_usage(self) -> int:
        """The highest usage the cgroup saw, page cache included."""
        return int((self.folder / ("memory.max_usage_in_bytes" if self.version == 1 else "memory.peak")).read_text())

    def oom_kills(self) -> int:
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        lines = dict(line.split() for line in (self.folder / name).read_text().splitlines())
        return int(lines.get("oom_kill", 0))


@contextmanager
def memory_limited_cgroup(limit: int) -> Iterator[Cgroup]:
    """A fresh memory cgroup (v1 `memory.limit_in_bytes`, or v2 `memory.max`) below this process's
    own. Whatever is still in it at the end moves back out, and it is removed."""
    lines = Path("/proc/self/cgroup").read_text().splitlines()
    own = {controllers: path.lstrip("/") for _, controllers, path in (line.split(":", 2) for line in lines)}
    v1 = Path("/sys/fs/cgroup/memory") / own.get("memory", "")
    v2 = Path("/sys/fs/cgroup") / own.get("", "")
    parent, limit_file, version = (v1, "memory.limit_in_bytes", 1) if "memory" in own else (v2, "memory.max", 2)
    folder = parent / f"jupyter-helpers-test-{uuid.uuid4().hex[:8]}"
    try:
        folder.mkdir()
        (folder / limit_file).write_text(str(limit))
    except OSError as exc:
        pytest.skip(
            f"cannot make a memory-limited cgroup under {parent} ({exc.strerror}): run as root with a "
            "writable cgroup file system"
        )
    try:
        yield Cgroup(folder, version)
    finally:
        for pid in (folder / "cgroup.procs").read_text().split():
            try:
                (parent / "cgroup.procs").write_text(pid)
            except OSError:
                pass
        wait_until(lambda: not (folder / "cgroup.procs").read_text().strip(), timeout=10)
        folder.rmdir()


def install_kernel_in(cgroup: Cgroup, data_dir: Path, name: str = "limited") -> str:
    """A kernelspec in `data_dir` (JUPYTER_DATA_DIR) whose kernels start inside `cgroup`, as a hub's
    or a container's kernels do; returns its name."""
    folder = data_dir / "kernels" / name
    folder.mkdir(parents=True, exist_ok=True)
    argv = [*cgroup.joining(), sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": f"Python 3 ({name})", "language": "python"}
    (folder / "kernel.json").write_text(json.dumps(spec))
    return name
