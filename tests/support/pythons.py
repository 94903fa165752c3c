"""The Pythons this machine has for kernels (pyenv's), and a cached environment with ipykernel for
each: what users do when they register a kernel of another environment (a venv, ipykernel in it,
then a kernelspec), built once and kept in pytest's cache folder so reruns take seconds. uv builds
them (1-2 s each here, where pip took 12-15 s on a fresh machine): what the environment holds is
the point, not the installer."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from uv import find_uv_bin

OLDEST = (3, 9)  # kernel and common code must run there (CONTRIBUTING, README)
_VERSION = re.compile(r"(\d+)\.(\d+)\.(\d+)")


def pyenv_versions() -> Path | None:
    """`$(pyenv root)/versions`, or None without pyenv."""
    root = os.environ.get("PYENV_ROOT")
    if not root and shutil.which("pyenv"):
        done = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=30, check=False)
        root = done.stdout.strip() if done.returncode == 0 else None
    root = root or str(Path.home() / ".pyenv")
    versions = Path(root) / "versions"
    return versions if versions.is_dir() else None


def kernel_pythons() -> dict[str, Path]:
    """Every pyenv Python from OLDEST on, by version ("3.9.18": its python3)."""
    versions = pyenv_versions()
    found = {}
    for folder in sorted(versions.iterdir()) if versions else []:
        match = _VERSION.fullmatch(folder.name)
        python = folder / "bin" / "python3"
        if match and tuple(map(int, match.groups()[:2])) >= OLDEST and python.exists():
            found[folder.name] = python
    return found


def ipykernel_environment(base: Path, cache: Path, env: dict[str, str]) -> Path:
    """A venv of `base` with ipykernel from the package registry, under `cache` (built once, under a
    lock, moved into place only when complete); returns its python. `env`: the environment uv
    runs in (the real HOME, so uv's own cache serves reruns too)."""
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / base.parent.parent.name
    python = target / "bin" / "python"
    with (cache / f".{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "ready").exists():
            return python
        building = target.with_name(target.name + ".building")
        shutil.rmtree(building, ignore_errors=True)
        shutil.rmtree(target, ignore_errors=True)
        uv = find_uv_bin()
        for step in (
            ["venv", "-q", "-p", str(base), str(building)],
            ["pip", "install", "-q", "-p", str(building), "ipykernel"],
        ):
            subprocess.run([uv, *step], check=True, timeout=600, env=env, capture_output=True)
        building.rename(target)
        (target / "ready").write_text("")
    return python


def register_kernel(python: Path, name: str, data_dir: Path) -> str:
    """A kernelspec for `python` under `data_dir`, as `python -m ipykernel install --user` writes it."""
    spec = data_dir / "kernels" / name
    spec.mkdir(parents=True, exist_ok=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": name, "language": "python"}))
    return name
