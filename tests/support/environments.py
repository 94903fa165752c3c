"""A Python environment of its own, for tests that install into `sys.prefix` (`install --sys-prefix`).

The shared test environment's `etc/` must stay untouched, so these tests get a fresh venv:
jupyter-helpers is installed into it by pip from a wheel built from this checkout (its own
site-packages, console script and `etc/jupyter` data file, as an admin's `pip install` leaves
them), and a `.pth` file lets it import everything else from the test environment (Jupyter,
ipykernel, ntfy, JupyterHub), so no test downloads anything. The other console scripts it needs
(`jupyter`, `jupyterhub-singleuser`, ...) are the test environment's, with their `#!` line
pointing at the new Python, and so are the other packages' data files (copies of their enabling
files in `etc/`, a link to `share/jupyter`), as pip would have written them there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
BIN = Path(os.path.normpath(sys.executable)).parent


@dataclass(frozen=True)
class Environment:
    prefix: Path

    @property
    def bin(self) -> Path:
        return self.prefix / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    @property
    def etc(self) -> Path:
        return self.prefix / "etc"


def build_wheel(out: Path) -> Path:
    """This checkout as a wheel (hatchling from the test environment: no build isolation, offline)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(out),
            str(PROJECT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = out.glob("jupyter_helpers-*.whl")
    return wheel


def project_wheel(tmp_path_factory) -> Path:
    """This checkout's wheel, built once per test session (kept in pytest's base temp folder, one
    per process, so parallel workers never share it) for every module that makes an environment."""
    out = tmp_path_factory.getbasetemp() / "project-wheel"
    built = sorted(out.glob("jupyter_helpers-*.whl"))
    return built[0] if built else build_wheel(out)


def make_environment(prefix: Path, wheel: Path) -> Environment:
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(prefix)], check=True, timeout=120)
    environment = Environment(prefix)
    site_packages = Path(sysconfig.get_paths(vars={"base": str(prefix), "platbase": str(prefix)})["purelib"])
    (site_packages / "_test_environment.pth").write_text(
        f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n"
    )
    for script in BIN.iterdir():
        target = environment.bin / script.name
        if target.exists() or not script.is_file():
            continue
        with open(script, "rb") as handle:
            interpreter = Path(os.path.normpath(handle.readline(4096)[2:].decode(errors="replace").strip()))
            if interpreter.parent != BIN or not interpreter.name.startswith("python"):
                continue  # not a console script of the test environment's Python
            body = handle.read()
        target.write_bytes(f"#!{environment.python}\n".encode() + body)
        target.chmod(0o755)
    # The data files of the packages it imports from the test environment, as pip would have put
    # them here: other extensions' enabling files (copies: tests edit etc/), the front ends' assets.
    test_prefix = Path(sys.prefix)
    for data in (test_prefix / "etc").rglob("*"):
        if data.is_file() and data.name != "jupyter_helpers.json":
            target = prefix / data.relative_to(test_prefix)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data.read_bytes())
    (prefix / "share").mkdir(exist_ok=True)
    (prefix / "share" / "jupyter").symlink_to(test_prefix / "share" / "jupyter")
    # pip run by the new Python installs into it (scripts, site-packages, etc/); the test
    # environment's own copy of jupyter-helpers is outside it, so pip leaves that one alone.
    subprocess.run(
        [
            str(environment.python),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--force-reinstall",
            str(wheel),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return environment
