"""The server runtime: the Jupyter server extension (page scripts for titles and presence, the
presence endpoint, kernel deaths, ActivityWatch heartbeats). Runs in the Jupyter server's process
and never blocks its event loop."""

from __future__ import annotations

import os
from typing import Any

from ..common.errors import UserError
from ..common.hub import server_owner
from . import heartbeats, kernels, owner, presence, titles


def _load_jupyter_server_extension(serverapp: Any) -> None:
    if server_owner() is not None:
        try:
            map_file = str(titles.ProjectTitles(parent=serverapp).store().path)
        except UserError as exc:
            map_file = f"(none: {exc})"
        serverapp.log.info(owner.startup_line(os.environ, map_file))
    presence.load(serverapp)
    kernels.load(serverapp)


async def _start_jupyter_server_extension(serverapp: Any) -> None:
    """Page scripts go in here, not at load: other extensions create their Jinja environments
    after this extension's load hook may have run."""
    titles.start(serverapp)
    presence.start(serverapp)
    heartbeats.start(serverapp, serverapp.web_app.settings.get(presence.SETTINGS_KEY))
