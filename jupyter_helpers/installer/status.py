"""`jupyter-helpers status`: one line per thing that must be wired, and what to do if it is not.

Each check reads what the real consumer reads (the profile's IPython config through traitlets'
own loaders, the Jupyter config files the server merges, the `jupyter` a user starts) so that
"ok" means it works, and every unreadable file is one line, never a traceback.
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..common import installation, paths
from ..common.child import CHILD_MODULE
from . import install

PROBE_TIMEOUT = 30


@dataclass(frozen=True)
class Check:
    ok: bool
    text: str

    def __str__(self) -> str:
        return f"{'ok ' if self.ok else 'ERR'}  {self.text}"


class ConfigUnreadable(Exception):
    """A config file traitlets cannot load; str() is one line naming it."""


def load_traitlets_config(path: Path) -> dict:
    """A .py or .json config file as traitlets loads it ({} when absent)."""
    from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

    if not path.is_file():
        return {}
    loader = PyFileConfigLoader if path.suffix == ".py" else JSONFileConfigLoader
    try:
        return loader(path.name, path=str(path.parent)).load_config()
    except Exception as exc:  # user code in a .py config can raise anything
        text = str(exc).strip().splitlines()
        raise ConfigUnreadable(f"cannot load {path} ({type(exc).__name__}: {text[0] if text else ''})") from exc


def _setting(files: list[Path], section: str, key: str) -> tuple[object, Path | None]:
    """The value the last of `files` to set `section.key` gives it (later files win)."""
    value, source = None, None
    for path in files:
        config = load_traitlets_config(path)
        if section in config and key in config[section]:
            value, source = config[section][key], path
    return value, source


def check_startup(profile: str) -> Check:
    path = install.startup_file(profile)
    if not path.exists():
        return Check(False, f"startup file missing: {path} (run `jupyter-helpers install --profile {profile}`)")
    if path.read_bytes() != install.startup_content():
        return Check(False, f"startup file differs from this version's: {path} (if you did not edit it, "
                            "move it away and run `jupyter-helpers install`)")
    return Check(True, f"startup file: {path}")


@functools.cache
def probe_delivery(python: str) -> dict | None:
    """What the delivery child says about the channel when run by `python` (the one kernels send
    with): {"ok", "text", "ntfy"}; None when it cannot run there. Asked once per status run."""
    try:
        done = subprocess.run([python, "-P", "-m", CHILD_MODULE, "--check"], capture_output=True, text=True,
                              timeout=PROBE_TIMEOUT, check=False)
        reply = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return None
    return reply if isinstance(reply, dict) else None


def check_sender(profile: str) -> Check:
    record = installation.load(paths.profile_dir(profile))
    if record is None:
        return Check(False, "no installation record in the profile (run `jupyter-helpers install`)")
    if not Path(record.python).exists():
        return Check(False, f"the environment of the sender Python {record.python} is gone; run "
                            "`jupyter-helpers install` again from the environment that has jupyter-helpers")
    reply = probe_delivery(record.python)
    if reply is None:
        return Check(False, f"sender Python {record.python} cannot import ntfy and jupyter_helpers "
                            "(run `jupyter-helpers install` from the environment that has them)")
    return Check(True, f"sender: {record.python} (ntfy {reply.get('ntfy')})")


def autonotify_switch(profile: str) -> tuple[bool, Path | None]:
    """Whether kernels of this profile start with autonotify on, and the file that turned it off."""
    location = paths.profile_dir(profile)
    names = ("ipython_config", "ipython_kernel_config")
    files = [location / f"{name}.{ext}" for name in names for ext in ("json", "py")]
    enabled, source = _setting(files, "AutoNotify", "enabled")
    return enabled is not False, source


def check_channel(profile: str = "default") -> Check:
    try:
        enabled, source = autonotify_switch(profile)
    except ConfigUnreadable as exc:
        return Check(False, str(exc))
    record = installation.load(paths.profile_dir(profile))
    python = record.python if record is not None and Path(record.python).exists() else sys.executable
    reply = probe_delivery(python)
    if reply is None:
        problem: str | None = (f"cannot check the notification channel: {python} cannot run {CHILD_MODULE} "
                               "(run `jupyter-helpers install` from the environment that has jupyter-helpers)")
    else:
        problem = None if reply.get("ok") else str(reply.get("text"))
    if not enabled:
        tail = f"; when you turn them on: {problem}" if problem else ""
        return Check(True, f"notifications off on purpose (c.AutoNotify.enabled = False in {source}); "
                           f"`%autonotify` in a kernel turns them on{tail}")
    if problem:
        return Check(False, problem)
    return Check(True, str(reply.get("text") if reply else ""))


def _server_config_files() -> list[Path]:
    """jupyter_server_config.json/.py in every Jupyter config dir, lowest priority first."""
    from jupyter_core.paths import jupyter_config_path

    dirs = [Path(d) for d in reversed(jupyter_config_path())]
    return [d / f"jupyter_server_config.{ext}" for d in dirs for ext in ("json", "py")]


def _jupyter_python(jupyter: str) -> str | None:
    """The Python the `jupyter` script runs (its #! line), if it names one."""
    try:
        with open(jupyter, "rb") as handle:
            first = handle.readline(4096)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    parts = first[2:].decode("utf-8", "replace").split()
    if not parts:
        return None
    if Path(parts[0]).name == "env" and len(parts) > 1:
        return shutil.which(parts[1])
    return parts[0]


def check_server_extension() -> Check:
    path = paths.server_extension_file()
    try:
        enabled = json.loads(path.read_bytes().decode("utf-8"))["ServerApp"]["jpserver_extensions"]["jupyter_helpers"]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        enabled = False
    if not enabled:
        return Check(False, f"window-title server extension not enabled: {path} (run `jupyter-helpers install`)")
    try:
        switch, source = _setting(_server_config_files(), "ServerApp", "jpserver_extensions")
    except ConfigUnreadable as exc:
        return Check(False, str(exc))
    if isinstance(switch, dict) and switch.get("jupyter_helpers") is False:
        return Check(False, f"window-title server extension is disabled by ServerApp.jpserver_extensions in "
                            f"{source} (remove jupyter_helpers there or set it to true)")
    jupyter = shutil.which("jupyter")
    if jupyter is None:
        return Check(True, f"window-title server extension enabled: {path} (no `jupyter` on PATH; start "
                           "Jupyter from the environment jupyter-helpers is installed in)")
    python = _jupyter_python(jupyter)
    if python:
        try:
            # From "/", as the `jupyter` script would see it: not from a checkout in the cwd.
            probe = subprocess.run([python, "-c", "import jupyter_helpers.server"], capture_output=True,
                                   timeout=PROBE_TIMEOUT, check=False, cwd="/")
            importable = probe.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            importable = False
        if not importable:
            return Check(False, f"the `jupyter` on PATH ({jupyter}) runs {python}, which cannot import "
                                "jupyter_helpers: start Jupyter from the environment you ran install in, "
                                "or install jupyter-helpers into that one")
    return Check(True, f"window-title server extension enabled: {path} (for {jupyter})")


def check_kernel_watch() -> Check:
    """Whether the server sends kernel deaths: `c.KernelWatch.enabled` in the server config the
    server merges (the extension itself is checked by check_server_extension)."""
    try:
        enabled, source = _setting(_server_config_files(), "KernelWatch", "enabled")
    except ConfigUnreadable as exc:
        return Check(False, str(exc))
    if enabled is False:
        return Check(True, f"kernel deaths: off on purpose (c.KernelWatch.enabled = False in {source})")
    return Check(True, "kernel deaths: on, the Jupyter server sends them (c.KernelWatch.enabled = False turns "
                       "them off)")


def checks(profile: str) -> list[Callable[[], Check]]:
    from ..common import projects
    from . import wsl

    return [
        lambda: check_startup(profile),
        lambda: check_sender(profile),
        lambda: check_channel(profile),
        check_server_extension,
        check_kernel_watch,
        lambda: Check(*projects.status()),
        lambda: Check(*wsl.status()),
    ]


def run(profile: str) -> tuple[bool, list[str]]:
    install.check_profile(profile)
    results = [check() for check in checks(profile)]
    return all(result.ok for result in results), [str(result) for result in results]
