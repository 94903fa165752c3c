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
