"""The server runtime: the Jupyter server extension (page scripts for titles and presence, the
presence endpoint, kernel deaths). Runs in the Jupyter server's process and never blocks its event loop."""

from __future__ import annotations

from typing import Any

from . import kernels, presence, titles


def _load_jupyter_server_extension(serverapp: Any) -> None:
    presence.load(serverapp)
    kernels.load(serverapp)


async def _start_jupyter_server_extension(serverapp: Any) -> None:
    """Page scripts go in here, not at load: other extensions create their Jinja environments
    after this extension's load hook may have run."""
    titles.start(serverapp)
    presence.start(serverapp)
