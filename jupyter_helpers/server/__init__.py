"""The server runtime: the Jupyter server extension (page scripts for titles and presence, the
presence endpoint, ActivityWatch heartbeats). Runs in the Jupyter server's process and never
blocks its event loop."""

from __future__ import annotations

from typing import Any

from . import heartbeats, presence, titles


def _load_jupyter_server_extension(serverapp: Any) -> None:
    presence.load(serverapp)


async def _start_jupyter_server_extension(serverapp: Any) -> None:
    """Page scripts go in here, not at load: other extensions create their Jinja environments
    after this extension's load hook may have run."""
    titles.start(serverapp)
    presence.start(serverapp)
    heartbeats.start(serverapp, serverapp.web_app.settings.get(presence.SETTINGS_KEY))
