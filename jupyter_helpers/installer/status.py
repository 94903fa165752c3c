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

from ..common import autonotify, hub, installation, paths
from ..common.child import CHILD_MODULE
from ..common.files import BadJson, dig, load_json
from . import environment, install
from .effective_config import (
    ConfigUnreadable,
    lazy,
    load_traitlets_config,
    server_config_dirs,
    server_config_files,
    server_section,
    setting,
)

PROBE_TIMEOUT = 30


@dataclass(frozen=True)
class Check:
    ok: bool
    text: str

    def __str__(self) -> str:
        return f"{'ok ' if self.ok else 'ERR'}  {self.text}"


def kernel_loader(profile: str) -> Path | None:
    """The config file through which kernels of this profile load jupyter_helpers as an IPython
    extension (the environment's, after `install --sys-prefix`), or None. Read as IPython reads
    them: ipython_config then ipython_kernel_config, each from the system, environment and profile
    folders (later wins), and an IPKernelApp section over an InteractiveShellApp one."""
    folders = autonotify.config_folders(paths.profile_dir(profile))
    found: dict[tuple[str, str], tuple[object, Path]] = {}
    for name in ("ipython_config", "ipython_kernel_config"):
        for folder in folders:
            for path in (folder / f"{name}{suffix}" for suffix in paths.CONFIG_SUFFIXES):
                config = load_traitlets_config(path)
                for section in ("InteractiveShellApp", "IPKernelApp"):
                    for key in ("extensions", "extra_extensions"):
                        if section in config and key in config[section]:
                            previous = found.get((section, key), (None, path))[0]
                            found[(section, key)] = (lazy(config[section][key], previous), path)
    for key in ("extensions", "extra_extensions"):
        value, source = found.get(("IPKernelApp", key)) or found.get(("InteractiveShellApp", key)) or (None, None)
        if isinstance(value, list) and environment.EXTENSION in value:
            return source
    return None


def check_kernel_side(profile: str) -> Check:
    """The startup file (per-user install) or the environment's kernel config (--sys-prefix)."""
    path = install.startup_file(profile)
    try:
        loader = kernel_loader(profile)
    except ConfigUnreadable as exc:
        return Check(False, str(exc))
    everyone = f"for every user of {sys.prefix} by {loader}" if loader else ""
    if path.exists() and not path.is_file():
        return Check(False, f"startup file is not a file: {path} (move it away and run `jupyter-helpers install`)")
    if path.exists() and path.read_bytes() != install.startup_content():
        return Check(
            False,
            f"startup file differs from this version's: {path} (if you did not edit it, "
            "move it away and run `jupyter-helpers install`)",
        )
    if path.exists():
        return Check(
            True,
            f"startup file: {path}"
            + (f" (kernels are also set up {everyone}; they load jupyter-helpers once)" if loader else ""),
        )
    if loader:
        return Check(True, f"kernels load jupyter-helpers {everyone}")
    return Check(
        False,
        f"startup file missing: {path} (run `jupyter-helpers install --profile {profile}`, "
        "or `install --sys-prefix` for every user of this environment)",
    )


@functools.cache
def probe_delivery(python: str) -> dict | None:
    """What the delivery child says about the channel when run by `python` (the one kernels send
    with): {"ok", "text", "ntfy", "backends"}; None when it cannot run there. Asked once per status run."""
    try:
        done = subprocess.run(
            [python, "-P", "-m", CHILD_MODULE, "--check"],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT,
            check=False,
        )
        reply = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else None
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError):
        return None
    return reply if isinstance(reply, dict) else None


def check_sender(profile: str) -> Check:
    record = installation.load(paths.profile_dir(profile))
    if (
        record is None
        and not installation.record_path(paths.profile_dir(profile)).exists()
        and not install.startup_file(profile).exists()
        and kernel_loader(profile)
    ):
        # --sys-prefix: kernels send with their own Python, this environment's.
        reply = probe_delivery(sys.executable)
        if reply is None:
            return Check(
                False,
                f"this environment's Python {sys.executable} cannot run {CHILD_MODULE} "
                "(reinstall jupyter-helpers here)",
            )
        return Check(True, f"sender: {sys.executable}, the kernels' own Python (ntfy {reply.get('ntfy')})")
    if record is None:
        return Check(False, "no installation record in the profile (run `jupyter-helpers install`)")
    if not Path(record.python).exists():
        return Check(
            False,
            f"the environment of the sender Python {record.python} is gone; run "
            "`jupyter-helpers install` again from the environment that has jupyter-helpers",
        )
    reply = probe_delivery(record.python)
    if reply is None:
        return Check(
            False,
            f"sender Python {record.python} cannot import ntfy and jupyter_helpers "
            "(run `jupyter-helpers install` from the environment that has them)",
        )
    return Check(True, f"sender: {record.python} (ntfy {reply.get('ntfy')})")


def autonotify_settings(profile: str) -> autonotify.Loaded:
    """`c.AutoNotify` as kernels of this profile read it (common/autonotify.py)."""
    from traitlets.config import loader

    return autonotify.load(paths.profile_dir(profile), loader)


def check_settings(profile: str) -> list[Check]:
    """One line per `c.AutoNotify` value kernels replace by its default (an unusable file is
    check_kernel_side's line, as kernels skip it)."""
    return [Check(False, line) for line in autonotify_settings(profile).bad_values]


def check_channel(profile: str = "default") -> Check:
    settings = autonotify_settings(profile)  # as kernels do: without files they cannot load
    enabled, source = settings.values["enabled"], settings.sources.get("enabled")
    record = installation.load(paths.profile_dir(profile))
    python = record.python if record is not None and Path(record.python).exists() else sys.executable
    reply = probe_delivery(python)
    if reply is None and python != sys.executable:  # the sender line says that; judge the channel here
        python, reply = sys.executable, probe_delivery(sys.executable)
    if reply is None:
        problem: str | None = (
            f"cannot check the notification channel: {python} cannot run {CHILD_MODULE} "
            "(run `jupyter-helpers install` from the environment that has jupyter-helpers)"
        )
    else:
        problem = None if reply.get("ok") else str(reply.get("text"))
    if not enabled:
        tail = f"; when you turn them on: {problem}" if problem else ""
        return Check(
            True,
            f"notifications off on purpose (c.AutoNotify.enabled = False in {source}); "
            f"`%autonotify` in a kernel turns them on{tail}",
        )
    if problem:
        return Check(False, problem)
    return Check(True, str(reply.get("text") if reply else ""))


def _extension_switches(folders: list[Path]) -> tuple[object, Path | None]:
    """`jpserver_extensions.jupyter_helpers` as the server merges the `jupyter_server_config.json`
    and `jupyter_server_config.d/*.json` of each folder (lowest priority first, later wins), and
    the file that set it. Unreadable files count as absent, as the server treats them."""
    value: object = None
    source = None
    for folder in reversed(folders):
        d_files = sorted((folder / "jupyter_server_config.d").glob("*.json"))
        for path in [folder / "jupyter_server_config.json", *d_files]:
            try:
                switches = dig(load_json(path.read_bytes()), "ServerApp", "jpserver_extensions")
            except (OSError, BadJson):
                continue
            if isinstance(switches, dict) and environment.EXTENSION in switches:
                value, source = switches[environment.EXTENSION], path
    return value, source


def check_server_extension() -> Check:
    folders = server_config_dirs()
    enabled, path = _extension_switches(folders)
    try:
        switch, source = setting(server_config_files(folders), "ServerApp", "jpserver_extensions")
    except ConfigUnreadable as exc:
        return Check(False, str(exc))
    if isinstance(switch, dict) and environment.EXTENSION in switch:
        enabled, path = switch[environment.EXTENSION], source
    own = paths.server_extension_file()
    if not enabled and hub.user_config_disabled() and own.exists():
        return Check(
            False,
            f"per-user config is disabled on this hub (JUPYTERHUB_DISABLE_USER_CONFIG), so your "
            f"server ignores {own}: no project titles, no presence (messages go out while you "
            "watch); ask the hub admin to run `jupyter-helpers install --sys-prefix` in the "
            "servers' environment",
        )
    if enabled is False:
        return Check(
            False,
            f"window-title server extension is disabled by ServerApp.jpserver_extensions in "
            f"{path} (remove jupyter_helpers there or set it to true)",
        )
    if not enabled:
        return Check(False, f"window-title server extension not enabled: {own} (run `jupyter-helpers install`)")
    everyone = path is not None and paths.environment_jupyter_dir() in path.parents
    return _check_jupyter_command(f" for every user of {sys.prefix}: {path}" if everyone else f": {path}")


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


def _check_jupyter_command(where: str) -> Check:
    """Enabled; and the `jupyter` a user starts can import the extension."""
    jupyter = shutil.which("jupyter")
    if jupyter is None:
        return Check(
            True,
            f"window-title server extension enabled{where} (no `jupyter` on PATH; start "
            "Jupyter from the environment jupyter-helpers is installed in)",
        )
    python = _jupyter_python(jupyter)
    if python:
        try:
            # From "/", as the `jupyter` script would see it: not from a checkout in the cwd.
            probe = subprocess.run(
                [python, "-c", "import jupyter_helpers.server.app"],
                capture_output=True,
                timeout=PROBE_TIMEOUT,
                check=False,
                cwd="/",
            )
            importable = probe.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            importable = False
        if not importable:
            return Check(
                False,
                f"the `jupyter` on PATH ({jupyter}) runs {python}, which cannot import "
                "jupyter_helpers: start Jupyter from the environment you ran install in, "
                "or install jupyter-helpers into that one",
            )
    return Check(True, f"window-title server extension enabled{where} (for {jupyter})")


NOT_INSTALLED = (
    "kernel deaths, presence and ActivityWatch heartbeats: off, jupyter-helpers is installed neither for "
    "you nor for this environment (Jupyter servers started from now on send nothing; "
    "`jupyter-helpers install` turns them on)"
)


def check_kernel_watch(profile: str) -> Check:
    """Whether the server sends kernel deaths: only where jupyter-helpers is installed (for this
    user or this environment), with `c.KernelWatch.enabled` in the server config the server merges
    and `c.AutoNotify.enabled` in the profile, as the server reads them (the extension itself is
    checked by check_server_extension)."""
    if installation.where_installed() is None:  # what uninstall is for: no error (the kernel lines say more)
        return Check(True, NOT_INSTALLED)
    try:
        enabled, source = server_section("KernelWatch").get("enabled", (True, None))
    except ConfigUnreadable as exc:
        return Check(False, str(exc))
    if enabled is False:
        return Check(True, f"kernel deaths: off on purpose (c.KernelWatch.enabled = False in {source})")
    settings = autonotify_settings(profile)
    if not settings.values["enabled"]:
        where = settings.sources.get("enabled")
        return Check(True, f"kernel deaths: off on purpose (c.AutoNotify.enabled = False in {where})")
    return Check(
        True, "kernel deaths: on, the Jupyter server sends them (c.KernelWatch.enabled = False turns them off)"
    )


def check_memory(profile: str) -> Check:
    """The memory limit kernels started from here will see (common/memory.py reads it as their
    memory watch does) and the profile's two levels as kernels take them (a bad value is
    check_settings' line; an interrupt not above the warning is this one's)."""
    from ..common.autonotify import memory_interrupt_problem
    from ..common.memory import find_source
    from .sysroot import root

    values = autonotify_settings(profile).values
    warn, interrupt = values["memory_warn"], values["memory_interrupt"]
    problem = memory_interrupt_problem(warn, interrupt)
    if problem:
        return Check(False, problem)
    source, unreadable = find_source("self", root())
    found = (
        "no memory figures on this system" if source is None else f"kernels started from here see {source.describe()}"
    )
    if unreadable:
        found += f" ({unreadable})"
    warns = f"a 🧠 message at {warn:.0%}" if warn else "no 🧠 message"
    interrupts = f"the cell interrupted at {interrupt:.0%}" if interrupt else "no interrupt before the OOM killer"
    return Check(
        True, f"memory: {found}; {warns} (c.AutoNotify.memory_warn), {interrupts} (c.AutoNotify.memory_interrupt)"
    )


def checks(profile: str) -> list[Callable[[], Check | list[Check]]]:
    from ..common import projects
    from . import heartbeat_status, wsl

    return [
        lambda: check_kernel_side(profile),
        lambda: check_sender(profile),
        lambda: check_channel(profile),
        lambda: check_settings(profile),
        check_server_extension,
        lambda: check_kernel_watch(profile),
        lambda: check_memory(profile),
        lambda: Check(*projects.status()),
        lambda: Check(*wsl.status()),
        lambda: Check(*heartbeat_status.check_heartbeats()) if installation.where_installed() else [],
    ]


def _each(result: Check | list[Check]) -> list[Check]:
    return result if isinstance(result, list) else [result]


def run(profile: str) -> tuple[bool, list[str]]:
    install.check_profile(profile)
    results = [result for check in checks(profile) for result in _each(check())]
    lines = list(dict.fromkeys(str(result) for result in results))  # one unreadable file, one line
    return all(result.ok for result in results), lines
