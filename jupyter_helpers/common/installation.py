"""The installation record a profile keeps: which jupyter-helpers and which Python to send with.

Kernels often run in virtual environments that have neither jupyter-helpers nor ntfy. The
startup file therefore loads the package from `package_dir` recorded here, and notifications are
sent by running `python` recorded here (the environment `jupyter-helpers install` ran in, which
has ntfy). Stdlib only: this is read inside kernels.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

from . import paths
from .files import BadJson, load_json

RECORD_NAME = "installation.json"


@dataclass(frozen=True)
class Installation:
    package_dir: str
    python: str
    version: str

    def to_bytes(self) -> bytes:
        return (json.dumps(asdict(self), indent=2) + "\n").encode()


def record_path(profile_location: Path) -> Path:
    return Path(profile_location) / "jupyter_helpers" / RECORD_NAME


def current() -> Installation:
    from .resources import package_dir
    from .version import __version__

    return Installation(package_dir=str(package_dir()), python=sys.executable, version=__version__)


def parse(data: bytes) -> Installation | None:
    try:
        fields = load_json(data)
        return Installation(**fields) if isinstance(fields, dict) else None
    except (BadJson, TypeError):
        return None


def is_record(data: bytes) -> bool:
    """Whether `data` is a record exactly as `to_bytes` writes it (recognised without a manifest)."""
    record = parse(data)
    return record is not None and record.to_bytes() == data


def load(profile_location: Path) -> Installation | None:
    try:
        return parse(record_path(profile_location).read_bytes())
    except OSError:
        return None


class Installed(NamedTuple):
    """Where jupyter-helpers is installed: `for_whom` ("you" or "every user of <environment>"),
    the file that says so, and the command that takes it out."""

    for_whom: str
    path: Path
    undo: str


def where_installed() -> Installed | None:
    """Where jupyter-helpers is installed so that this user's Jupyter server may send (kernel deaths
    to the phone, heartbeats to ActivityWatch); None once uninstalled (pip's package alone keeps
    window titles only).

    For you: an installation record in any profile. For everyone: `install --sys-prefix`'s record,
    or an environment kernel config that loads jupyter_helpers (an admin who wrote it by hand)."""
    for record in sorted(paths.ipython_dir().glob(f"profile_*/{paths.STATE_DIR_NAME}/{RECORD_NAME}")):
        profile = record.parent.parent.name.removeprefix("profile_")
        return Installed("you", record, f"jupyter-helpers uninstall --profile {profile}")
    everyone = f"every user of {sys.prefix}"
    if paths.environment_manifest().is_file():
        return Installed(everyone, paths.environment_manifest(), "jupyter-helpers uninstall --sys-prefix")
    for suffix in paths.CONFIG_SUFFIXES:
        config = paths.environment_ipython_dir() / f"ipython_kernel_config{suffix}"
        try:
            if b"jupyter_helpers" in config.read_bytes():
                return Installed(everyone, config, f"remove jupyter_helpers from {config}")
        except OSError:
            continue
    return None
