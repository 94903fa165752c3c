"""Where IPython, Jupyter and ntfy keep their files, resolved by their own rules.

Everything honours IPYTHONDIR, JUPYTER_CONFIG_DIR, XDG_CONFIG_HOME and HOME, so users and tests
can point the whole product at any directory.
"""

from __future__ import annotations

import os
from pathlib import Path

STARTUP_FILE_NAME = "00-jupyter-helpers.py"
SERVER_EXTENSION_FILE_NAME = "jupyter_helpers.json"
STATE_DIR_NAME = "jupyter_helpers"


def ipython_dir() -> Path:
    env = os.environ.get("IPYTHONDIR")
    return Path(env).expanduser() if env else Path.home() / ".ipython"


def profile_dir(profile: str) -> Path:
    return ipython_dir() / f"profile_{profile}"


def jupyter_config_dir() -> Path:
    from jupyter_core.paths import jupyter_config_dir as _jupyter_config_dir

    return Path(_jupyter_config_dir())


def server_extension_file() -> Path:
    return jupyter_config_dir() / "jupyter_server_config.d" / SERVER_EXTENSION_FILE_NAME


def projects_file() -> Path:
    return jupyter_config_dir() / "jupyter_helpers_projects.json"


def xdg_config_home() -> Path:
    env = os.environ.get("XDG_CONFIG_HOME")
    return Path(env) if env else Path.home() / ".config"


def ntfy_config_dir() -> Path:
    """The folder ntfy reads (appdirs' user_config_dir('ntfy') on Linux)."""
    return xdg_config_home() / "ntfy"
