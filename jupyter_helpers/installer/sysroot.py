"""Every probe of the host system goes through here, so WSL can be simulated anywhere.

`JUPYTER_HELPERS_SYSROOT` (a testing knob) names a directory that stands in for `/`: the kernel
release file, /etc/wsl.conf, the drive mounts and the Windows browsers are all read below it.
"""

from __future__ import annotations

import os
from pathlib import Path


def root() -> Path:
    return Path(os.environ.get("JUPYTER_HELPERS_SYSROOT") or "/")


def host_path(system_path: str) -> Path:
    """Where `system_path` (as the system sees it, e.g. /mnt/c/...) really is on this machine."""
    return root() / system_path.lstrip("/")


def read_text(system_path: str) -> str | None:
    try:
        return host_path(system_path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def exists(system_path: str) -> bool:
    return host_path(system_path).exists()


def environ(name: str) -> str | None:
    return os.environ.get(name)
