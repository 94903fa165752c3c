"""Whose presence counts: only the server's owner looking at a notebook holds the owner's messages.

Under JupyterHub one single-user server can have several visitors: users granted
`access:servers!user=alice`, admins, services. Their pages are real pages with real focus, but
they are not alice looking: a report from one of them must never hold alice's phone message
(nor, once ActivityWatch heartbeats are fed from presence, count time in alice's name). Outside
JupyterHub a server has one user, whoever holds its token or password, and every page counts.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..common.hub import server_owner, user_config_disabled


def counts_as_owner(current_user: object, environ: Mapping[str, str]) -> bool:
    """Whether the request's user (jupyter_server's `handler.current_user`) is the server's owner.
    Under JupyterHub the owner is `JUPYTERHUB_USER`; the hub's identity provider gives a
    `JupyterHubUser` whose `username` is the visitor's hub name and whose `hub_user["kind"]` tells a
    user from a service (a service may share a user's name)."""
    owner = server_owner(environ)
    if owner is None:
        return True
    hub_user = getattr(current_user, "hub_user", None)
    if isinstance(hub_user, Mapping) and hub_user.get("kind", "user") != "user":
        return False
    return getattr(current_user, "username", None) == owner


def startup_line(environ: Mapping[str, str], map_file: str) -> str:
    """The one line the server log gets at start on a JupyterHub single-user server."""
    owner = server_owner(environ)
    line = f"jupyter-helpers: {owner}'s server: only {owner}'s own pages count as looking"
    if user_config_disabled(environ):
        line += (
            f"; per-user config is disabled (JUPYTERHUB_DISABLE_USER_CONFIG), so jupyter-helpers runs from "
            f"this environment's config, ignores c.ProjectTitles/c.PagePresence in {owner}'s Jupyter config "
            f"and still reads the project map {map_file}"
        )
    return line
