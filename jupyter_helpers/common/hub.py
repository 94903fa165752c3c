"""What JupyterHub tells a single-user server (and everything it starts) through the environment.

The spawner sets `JUPYTERHUB_USER` to the server's owner and, with `c.Spawner.disable_user_config
= True`, `JUPYTERHUB_DISABLE_USER_CONFIG`; kernels and terminals inherit both. Standard library
only: the server, the installer's status and the kernel may all ask.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path


def server_owner(environ: Mapping[str, str] = os.environ) -> str | None:
    """The hub user whose server this is; None outside JupyterHub (the server has one user)."""
    return environ.get("JUPYTERHUB_USER") or None


def user_config_disabled(environ: Mapping[str, str] = os.environ) -> bool:
    """JupyterHub's own reading of the flag (`jupyterhub.utils._bool_env`): unset or empty is
    off, "0" and "false" are off, anything else is on."""
    return environ.get("JUPYTERHUB_DISABLE_USER_CONFIG", "").lower() not in {"", "0", "false"}


def outside_home(folders: Iterable[str | Path], home: Path | None = None) -> list[str]:
    """The folders a single-user server still reads with per-user config disabled: those not in
    the user's home (JupyterHub compares resolved paths, so a symlinked home counts as home)."""
    root = (home or Path.home()).resolve()
    return [
        str(folder)
        for folder in folders
        if not (Path(folder).resolve() == root or root in Path(folder).resolve().parents)
    ]
