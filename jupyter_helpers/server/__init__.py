"""The server runtime: the Jupyter server extension (page scripts for titles and presence, the
presence endpoint, kernel deaths, ActivityWatch heartbeats). Runs in the Jupyter server's process
and never blocks its event loop."""

from __future__ import annotations

import os
from typing import Any

from ..common.errors import UserError
from ..common.hub import server_owner
from ..common.installation import where_installed
from . import heartbeats, kernels, owner, presence, titles

INSTALLED_KEY = "jupyter_helpers_installed"


def _load_jupyter_server_extension(serverapp: Any) -> None:
    if server_owner() is not None:
        try:
            map_file = str(titles.ProjectTitles(parent=serverapp).store().path)
        except UserError as exc:
            map_file = f"(none: {exc})"
        serverapp.log.info(owner.startup_line(os.environ, map_file))
    serverapp.web_app.settings[INSTALLED_KEY] = installed = where_installed()
    if installed is None:  # uninstalled, pip's package left: window titles only, nothing sent anywhere
        serverapp.log.info(
            "jupyter-helpers: not installed for you or for this environment: window titles only; "
            "no kernel-death messages, presence or ActivityWatch heartbeats (`jupyter-helpers install` "
            "turns them on)"
        )
        return
    presence.load(serverapp)
    kernels.load(serverapp)


async def _start_jupyter_server_extension(serverapp: Any) -> None:
    """Page scripts go in here, not at load: other extensions create their Jinja environments
    after this extension's load hook may have run."""
    titles.start(serverapp)
    if serverapp.web_app.settings.get(INSTALLED_KEY) is None:
        return
    presence.start(serverapp)
    heartbeats.start(serverapp, serverapp.web_app.settings.get(presence.SETTINGS_KEY))
