"""`jupyter-helpers status`: one line per thing that must be wired, and what to do if it is not."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass

from . import install, installation, paths
from .notify.channel import ChannelError, backends, check_telegram_credentials, load_ntfy_config


@dataclass(frozen=True)
class Check:
    ok: bool
    text: str

    def __str__(self) -> str:
        return f"{'ok ' if self.ok else 'ERR'}  {self.text}"


def check_startup(profile: str) -> Check:
    path = install.startup_file(profile)
    if not path.exists():
        return Check(False, f"startup file missing: {path} (run `jupyter-helpers install --profile {profile}`)")
    if path.read_bytes() != install.startup_content():
        return Check(False, f"startup file is from another version: {path} (run `jupyter-helpers install`)")
    return Check(True, f"startup file: {path}")


def check_sender(profile: str) -> Check:
    record = installation.load(paths.profile_dir(profile))
    if record is None:
        return Check(False, "no installation record in the profile (run `jupyter-helpers install`)")
    try:
        probe = subprocess.run(
            [record.python, "-P", "-c", "import ntfy, jupyter_helpers; print(ntfy.__version__)"],
            capture_output=True, text=True, timeout=30, check=False,
        )
    except OSError:
        probe = None
    if probe is None or probe.returncode != 0:
        return Check(False, f"sender Python {record.python} cannot import ntfy (reinstall jupyter-helpers there)")
    return Check(True, f"sender: {record.python} (ntfy {probe.stdout.strip()})")


def check_channel() -> Check:
    try:
        chosen = backends(load_ntfy_config())
        if "telegram" in chosen:
            check_telegram_credentials()
    except ChannelError as exc:
        return Check(False, str(exc))
    return Check(True, f"notifications go through ntfy backend(s): {', '.join(chosen)}")


def check_server_extension() -> Check:
    path = paths.server_extension_file()
    try:
        enabled = json.loads(path.read_text())["ServerApp"]["jpserver_extensions"]["jupyter_helpers"]
    except (OSError, ValueError, KeyError, TypeError):
        enabled = False
    if not enabled:
        return Check(False, f"window-title server extension not enabled: {path} (run `jupyter-helpers install`)")
    return Check(True, f"window-title server extension enabled: {path}")


def checks(profile: str) -> list[Callable[[], Check]]:
    from . import projects, wsl

    return [
        lambda: check_startup(profile),
        lambda: check_sender(profile),
        check_channel,
        check_server_extension,
        lambda: Check(*projects.status()),
        lambda: Check(*wsl.status()),
    ]


def run(profile: str) -> tuple[bool, list[str]]:
    results = [check() for check in checks(profile)]
    return all(result.ok for result in results), [str(result) for result in results]
