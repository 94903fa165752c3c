"""jupyter-helpers: notifications for long cells, per-project window titles, a WSL browser fix.

This module is imported inside every kernel (by the profile's startup file), so it must stay
cheap and import only the standard library at module level: kernels often run in environments
that have IPython but not jupyter-helpers' own dependencies.
"""

from __future__ import annotations

from typing import Any

from .common.version import __version__

__all__ = ["__version__", "load_ipython_extension", "unload_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext jupyter_helpers`: registers %autonotify/%notify and the cell watcher."""
    from .kernel.extension import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Removes every callback `load_ipython_extension` added, so %reload_ext never stacks them."""
    from .kernel.extension import unload

    unload(ipython)


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """`jpserver_extensions: {"jupyter_helpers": true}` loads the server runtime (server/), whose
    one owner is an ExtensionApp (imported here, lazily: only a Jupyter server calls this)."""
    from .server.app import JupyterHelpersApp

    return [{"module": "jupyter_helpers.server.app", "app": JupyterHelpersApp}]
