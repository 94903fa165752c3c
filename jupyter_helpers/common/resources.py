"""Finds the files shipped beside the code (`templates/`, `startup/`).

A wheel carries them inside the package (see pyproject's force-include); a source checkout keeps
them at the project root. Looking in both keeps tests from a checkout and installed use identical.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent.parent


def resource_path(*parts: str) -> Path:
    for base in (_PACKAGE_DIR, _PACKAGE_DIR.parent):
        candidate = base.joinpath(*parts)
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"jupyter-helpers is missing its data file {'/'.join(parts)}; reinstall it")


def package_dir() -> Path:
    """The `jupyter_helpers` folder: what the startup file loads in kernels of any environment."""
    return _PACKAGE_DIR
