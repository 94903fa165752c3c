"""How much memory a process may use before the OOM killer acts, and how much it uses now; and how
many OOM kills its memory cgroup has counted. Standard library only: the kernel's memory watch
samples it while a cell runs, the server reads the OOM count and the kernel's peak at a death, and
`jupyter-helpers status` shows the limit.

Inside a memory cgroup (containers, Kubernetes pods, systemd slices) the limit is the cgroup's
(v2 `memory.max`, v1 `memory.limit_in_bytes`; the lowest of the process's cgroup and its ancestors
that we can see), and use is counted as the kubelet counts a container's working set: usage minus
inactive file cache (v2 `memory.current` - `inactive_file`, v1 `memory.usage_in_bytes` -
`total_inactive_file`), so a big file read once is not taken for the kernel's memory. Swap is not
counted: both files give memory alone. Without a limit (or a limit above the machine's memory):
the machine, `MemTotal` - `MemAvailable` of `MemTotal`.

Every path is read below `root` (normally `/`), so tests can point it at a fake tree.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

CGROUPS = Path("/sys/fs/cgroup")
PEAK_DIR = "jupyter-helpers-memory"
_V1 = ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file")
_V2 = ("memory.max", "memory.current", "inactive_file")


class Reading(NamedTuple):
    used: int  # bytes in use as the OOM killer sees them (working set)
    limit: int  # bytes


class Source(NamedTuple):
    """Where a process's memory is read: `kind` is `cgroup v1`, `cgroup v2` or `machine`; for a
    cgroup, its folder (the one whose limit is lowest). (A NamedTuple: kernels import this module
    at start, and a dataclass costs more to create.)"""

    kind: str
    limit: int
    folder: Path | None = None

    def describe(self) -> str:
        """`cgroup v2 limit 8.0 GB` / `machine 31.2 GB`: what `--status` and `status` show."""
        return f"{self.kind} limit {size(self.limit)}" if self.folder else f"{self.kind} {size(self.limit)}"


def size(count: float) -> str:
    """`6.4 GB`, `548 MB`: memory in the units limits are set in (GB = 1024³ bytes, as `8G` and
    Kubernetes' `8Gi` mean), one decimal from 1 GB on."""
    if count >= 1024**3:
        return f"{count / 1024**3:.1f} GB"
    return f"{count / 1024**2:.0f} MB"


def amount(reading: Reading) -> str:
    """`6.4 GB of 7.1 GB`."""
    return f"{size(reading.used)} of {size(reading.limit)}"


def percent(reading: Reading) -> str:
    """`91%`, never `100%` short of the limit."""
    return f"{min(int(100 * reading.used / reading.limit), 100)}%"


def _cgroup_lines(pid: int | str, root: Path) -> list[tuple[str, str]]:
    """(controllers, path) per line of /proc/<pid>/cgroup; [] when it cannot be read."""
    try:
        text = (root / f"proc/{pid}/cgroup").read_text()
    except OSError:
        return []
    lines = []
    for line in text.splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            lines.append((parts[1], parts[2].lstrip("/")))
    return lines


def _visible(mount: Path, relative: str) -> Path | None:
    """The process's cgroup folder under `mount`. In a container without a cgroup namespace the
    path names the host's hierarchy while the container sees its own cgroup as the mount's root:
    the longest tail of the path that exists, else the root itself."""
    parts = [part for part in relative.split("/") if part]
    for start in range(len(parts) + 1):
        folder = mount.joinpath(*parts[start:])
        if folder.is_dir():
            return folder
    return None


def memory_cgroups(pid: int | str = "self", root: Path = Path("/")) -> list[tuple[str, Path]]:
    """('cgroup v1' | 'cgroup v2', folder) for the process's memory cgroup: v1 where a `memory`
    line names one (machines that still use v1 for memory), else the v2 (unified) line's."""
    found = []
    mounts = root / str(CGROUPS).lstrip("/")
    for controllers, relative in _cgroup_lines(pid, root):
        if "memory" in controllers.split(","):
            folder = _visible(mounts / "memory", relative)
            kind = "cgroup v1"
        elif controllers == "":
            folder = _visible(mounts, relative)
            kind = "cgroup v2"
        else:
            continue
        if folder is not None:
            found.append((kind, folder))
    found.sort(key=lambda item: item[0] != "cgroup v1")
    return found


def _stat_value(text: str, key: str) -> int:
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name == key:
            return int(value)
    raise ValueError(f"no {key} in memory.stat")


def machine(root: Path = Path("/")) -> tuple[int, int] | None:
    """(MemTotal, MemAvailable) in bytes, or None without /proc/meminfo."""
    try:
        text = (root / "proc/meminfo").read_text()
        values = {}
        for line in text.splitlines():
            name, _, rest = line.partition(":")
            if name in ("MemTotal", "MemAvailable"):
                values[name] = int(rest.split()[0]) * 1024
        return values["MemTotal"], values["MemAvailable"]
    except (OSError, ValueError, KeyError, IndexError):
        return None


def _lowest_limit(kind: str, folder: Path, total: int | None) -> Source | None:
    """The lowest limit below the machine's memory among `folder` and its ancestors up to the
    mount's root (a limit on a parent, such as a pod's or a user slice's, binds the process too)."""
    names = _V1 if kind == "cgroup v1" else _V2
    best: Source | None = None
    level = folder
    while True:
        limit_file = level / names[0]
        if limit_file.exists():
            text = limit_file.read_text().strip()
            if text != "max":
                limit = int(text)
                if (total is None or limit < total) and (best is None or limit < best.limit):
                    best = Source(kind, limit, level)
        if not (level.parent / "cgroup.procs").exists():
            return best
        level = level.parent


def find_source(pid: int | str = "self", root: Path = Path("/")) -> tuple[Source | None, str | None]:
    """Where the process's memory is judged, and a line saying why a memory cgroup that exists
    could not be read (the machine's memory is used then). (None, None) where neither can be
    read (not Linux). The first memory cgroup decides: v1's where there is one."""
    memory = machine(root)
    problem = None
    cgroups = memory_cgroups(pid, root)
    if cgroups:
        kind, folder = cgroups[0]
        try:
            best = _lowest_limit(kind, folder, memory[0] if memory else None)
            if best is not None:
                read_cgroup(best)  # readable now, or say why not
                return best, None
        except (OSError, ValueError) as exc:
            problem = f"cannot read the memory cgroup {folder} ({type(exc).__name__}: {exc})"
    if memory is None:
        return None, problem
    return Source("machine", memory[0]), problem


def read_cgroup(source: Source) -> Reading:
    """One reading of a cgroup source (raises OSError or ValueError when it cannot be read)."""
    assert source.folder is not None
    names = _V1 if source.kind == "cgroup v1" else _V2
    usage = int((source.folder / names[1]).read_text())
    inactive = _stat_value((source.folder / "memory.stat").read_text(), names[2])
    return Reading(max(usage - inactive, 0), source.limit)


class LimitChanged(ValueError):
    """The cgroup's limit is not the one the sampler was made for (lowered or raised while a cell
    ran: an in-place pod resize, `systemctl set-property`): find the source again."""


class Sampler:
    """Reads one source again and again at a few microseconds each: the cgroup files are kept open
    and read with `pread` (a cgroup file is generated afresh at every read from offset 0). The
    limit is read each time too: one lowered mid-run must move the levels before the OOM killer acts."""

    def __init__(self, source: Source, root: Path = Path("/")) -> None:
        self.source = source
        if source.folder is not None:
            names = _V1 if source.kind == "cgroup v1" else _V2
            paths = [source.folder / names[1], source.folder / "memory.stat", source.folder / names[0]]
            self._inactive = ("\n" + names[2] + " ").encode()
        else:
            paths = [root / "proc/meminfo"]
        self._fds = [os.open(path, os.O_RDONLY | os.O_CLOEXEC) for path in paths]

    def read(self) -> Reading:
        """Raises OSError or ValueError when the files stopped making sense."""
        if self.source.folder is None:
            text = os.pread(self._fds[0], 1024, 0)  # both come first in /proc/meminfo
            total, available = _kb(text, b"MemTotal:"), _kb(text, b"MemAvailable:")
            return Reading(total - available, total)
        if os.pread(self._fds[2], 64, 0).strip() != b"%d" % self.source.limit:
            raise LimitChanged(f"the memory limit of {self.source.folder} changed")
        usage = int(os.pread(self._fds[0], 64, 0))
        stat = b"\n" + os.pread(self._fds[1], 16384, 0)
        at = stat.index(self._inactive) + len(self._inactive)
        inactive = int(stat[at : stat.index(b"\n", at)])
        return Reading(max(usage - inactive, 0), self.source.limit)

    def close(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds = []


def _kb(text: bytes, key: bytes) -> int:
    at = text.index(key) + len(key)
    return int(text[at : text.index(b" kB", at)]) * 1024


# -- OOM kills (the server's death message) -----------------------------------------------------


def oom_counter(pid: int, root: Path = Path("/")) -> Path | None:
    """The file counting OOM kills in the process's memory cgroup (its `oom_kill` line): cgroup
    v2's `memory.events`, or v1's `memory.oom_control` on machines that still use v1 for memory."""
    for kind, folder in memory_cgroups(pid, root):
        candidate = folder / ("memory.oom_control" if kind == "cgroup v1" else "memory.events")
        if candidate.is_file():
            return candidate
    return None


def oom_kills(counter: Path | None) -> int | None:
    """The cgroup's `oom_kill` count, or None when it cannot be read."""
    if counter is None:
        return None
    try:
        for line in counter.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
    except (OSError, ValueError):
        return None
    return None


# -- the kernel's peak, for the server's death message -----------------------------------------


def peak_file(runtime_dir: str | os.PathLike[str], kernel_id: str) -> Path:
    """`<runtime dir>/jupyter-helpers-memory/<kernel id>.json`, beside the kernel's connection file."""
    from .presence import kernel_file  # here: kernels import this module at start, presence when used

    return kernel_file(runtime_dir, PEAK_DIR, kernel_id)


def write_peak(path: Path, reading: Reading) -> None:
    from .presence import write_private_json

    write_private_json(path, {"peak": reading.used, "limit": reading.limit})


def take_peak(path: Path) -> Reading | None:
    """The peak a kernel recorded, removing the file (its process is gone; a restarted kernel of
    the same id starts a new one). None when there is none or it is not as we wrote it."""
    from .presence import read_private_json

    data = read_private_json(path)
    try:
        path.unlink()
    except OSError:
        pass
    if not isinstance(data, dict):
        return None
    peak, limit = data.get("peak"), data.get("limit")
    if type(peak) is int and type(limit) is int and 0 <= peak and limit > 0:
        return Reading(peak, limit)
    return None
