"""Where IPython, Jupyter and ntfy keep their files, resolved by their own rules.

Everything honours IPYTHONDIR, JUPYTER_CONFIG_DIR, XDG_CONFIG_HOME and HOME, so users and tests
can point the whole product at any directory. Standard library only: kernels find the project map
through here, and a kernel's environment may have IPython but not jupyter_core. The Jupyter config
dir follows jupyter_core's own rule (tests/test_paths.py compares the two).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .errors import UserError

STARTUP_FILE_NAME = "00-jupyter-helpers.py"
SERVER_EXTENSION_FILE_NAME = "jupyter_helpers.json"
STATE_DIR_NAME = "jupyter_helpers"
MANIFEST_NAME = "changes.json"
IPYTHON_SYSTEM_DIRS = ("/usr/local/etc/ipython", "/etc/ipython")  # IPython's SYSTEM_CONFIG_DIRS on POSIX
_FALSE_WORDS = {"no", "n", "false", "off", "0", "0.0"}  # jupyter_core's `envset`


def ipython_dir() -> Path:
    env = os.environ.get("IPYTHONDIR")
    return Path(env).expanduser() if env else Path.home() / ".ipython"


def profile_dir(profile: str) -> Path:
    return ipython_dir() / f"profile_{profile}"


def _home() -> Path:
    return Path("~").expanduser().resolve()


def jupyter_config_dir() -> Path:
    """jupyter_core's `jupyter_config_dir()`. Under JUPYTER_NO_CONFIG Jupyter reads a fresh empty
    folder instead, so there is no user config to find or write: a one-line error says so."""
    env = os.environ
    if env.get("JUPYTER_NO_CONFIG"):
        raise UserError("JUPYTER_NO_CONFIG is set, so Jupyter reads no user config; unset it and retry")
    if env.get("JUPYTER_CONFIG_DIR"):
        return Path(env["JUPYTER_CONFIG_DIR"])
    if env.get("JUPYTER_PLATFORM_DIRS", "").lower() not in _FALSE_WORDS | {""}:
        if sys.platform == "darwin":
            return _home() / "Library" / "Application Support" / "jupyter"
        return xdg_config_home() / "jupyter"
    return _home() / ".jupyter"


def server_extension_file() -> Path:
    return jupyter_config_dir() / "jupyter_server_config.d" / SERVER_EXTENSION_FILE_NAME


def projects_file() -> Path:
    return jupyter_config_dir() / "jupyter_helpers_projects.json"


def server_manifest() -> Path:
    """The record of the shared server-extension file (see installer/install.py)."""
    return jupyter_config_dir() / STATE_DIR_NAME / "server" / MANIFEST_NAME


def wsl_manifest() -> Path:
    """The record of what `jupyter-helpers wsl` set (see installer/wsl.py)."""
    return jupyter_config_dir() / STATE_DIR_NAME / "wsl" / MANIFEST_NAME


def environment_jupyter_dir() -> Path:
    """`<sys.prefix>/etc/jupyter`: jupyter_core's ENV_CONFIG_PATH, read by the server of every user
    who runs Jupyter from this environment (a JupyterHub's single-user servers)."""
    return Path(sys.prefix) / "etc" / "jupyter"


def environment_ipython_dir() -> Path:
    """`<sys.prefix>/etc/ipython`: IPython's ENV_CONFIG_DIRS, read by every kernel of this environment."""
    return Path(sys.prefix) / "etc" / "ipython"


def environment_manifest() -> Path:
    """The record of `install --sys-prefix` (see installer/environment.py)."""
    return environment_jupyter_dir() / STATE_DIR_NAME / "environment" / MANIFEST_NAME


CONFIG_SUFFIXES = (".py", ".json")  # traitlets loads NAME.py, then NAME.json: in one folder the JSON wins


def xdg_config_home() -> Path:
    env = os.environ.get("XDG_CONFIG_HOME")
    return Path(env) if env else Path.home() / ".config"


def ntfy_config_dir() -> Path:
    """The folder ntfy reads in the delivery child (appdirs' user_config_dir('ntfy') on Linux,
    once `drop_unusable_xdg_config_home` has run there)."""
    env = os.environ.get("XDG_CONFIG_HOME", "")
    return (Path(env) if os.path.isabs(env) else Path.home() / ".config") / "ntfy"


def ntfy_yml() -> Path:
    """ntfy's own config: which backends messages go through (`backends:`) and their settings."""
    return ntfy_config_dir() / "ntfy.yml"


def telegram_ini() -> Path:
    """ntfy's Telegram credentials (token, chat_id), as telegram-send reads them."""
    return ntfy_config_dir() / "telegram.ini"


def drop_unusable_xdg_config_home() -> None:
    """The XDG spec ignores an empty or relative XDG_CONFIG_HOME; appdirs would read `./ntfy` from
    wherever the kernel runs. Call before ntfy is imported (it reads the folder on import)."""
    if not os.path.isabs(os.environ.get("XDG_CONFIG_HOME", os.sep)):
        del os.environ["XDG_CONFIG_HOME"]
