"""`install --sys-prefix`: jupyter-helpers for every user of this Python environment (a JupyterHub's).

Two changes in the environment's `etc/`, recorded by one change set beside them:

- the server extension: the same file the per-user install owns, in the environment's
  `etc/jupyter/jupyter_server_config.d/`. pip ships that very file, so after a pip install it is
  already there and stays pip's; one that says otherwise (`jupyter server extension disable
  --sys-prefix`) is backed up and put back;
- the kernel side: `jupyter_helpers` joins `InteractiveShellApp.extra_extensions` in the
  environment's `etc/ipython/ipython_kernel_config.json`, a file the admin may own (edited key by
  key, the list shared). `extra_extensions`, not `extensions`: a user's profile that sets
  `c.InteractiveShellApp.extensions` replaces the environment's list for that key, and profiles
  leave `extra_extensions` alone.

No installation record: kernels of this environment import jupyter_helpers from its site-packages
and send with their own Python, which has ntfy. Each user's project map, ntfy config and settings
stay in their own home. A per-user install beside this one loads nothing twice: IPython loads an
extension once per shell, and the startup file then finds it loaded.
"""

from __future__ import annotations

from pathlib import Path

from ..common import paths
from ..common.files import write_error
from .changes import Change, ChangeSet, FileChange, FileOutcome, KeyChange
from .install import recognise, server_extension_content
from .json_keys import Members

EXTENSION = "jupyter_helpers"
KERNEL_CONFIG_NAME = "ipython_kernel_config.json"
KERNEL_SECTION, KERNEL_KEY = "InteractiveShellApp", "extra_extensions"


def server_extension_file() -> Path:
    return paths.environment_jupyter_dir() / "jupyter_server_config.d" / paths.SERVER_EXTENSION_FILE_NAME


def kernel_config_file() -> Path:
    return paths.environment_ipython_dir() / KERNEL_CONFIG_NAME


def change_set() -> ChangeSet:
    state = paths.environment_manifest().parent
    return ChangeSet(state, owned=state.parent)


def changes() -> list[Change]:
    return [
        FileChange(server_extension_file(), server_extension_content()),
        KeyChange(kernel_config_file(), {KERNEL_SECTION: {KERNEL_KEY: Members((EXTENSION,))}}),
    ]


def install(dry_run: bool = False) -> list[FileOutcome]:
    if dry_run:
        return change_set().plan(changes(), recognise)
    return change_set().apply(changes(), recognise)


def uninstall() -> list[FileOutcome]:
    """Without a record nothing here is recognised by content: the server-extension file pip
    ships holds the very bytes we write, and it is pip's."""
    try:
        return change_set().revert(recognise, [])
    except OSError as exc:
        raise write_error(exc, paths.environment_jupyter_dir()) from exc
