"""Whose page counts as looking, decided on the identities jupyter_server and JupyterHub really
hand a handler (`jupyter_server.auth.User`, `jupyterhub.singleuser.extension.JupyterHubUser`)."""

from __future__ import annotations

import pytest
from jupyter_server.auth import User
from jupyterhub.singleuser.extension import JupyterHubUser

from jupyter_helpers.common.hub import outside_home, user_config_disabled
from jupyter_helpers.server.owner import counts_as_owner, startup_line

ALICE_SERVER = {"JUPYTERHUB_USER": "alice"}


def hub_user(name: str, kind: str = "user") -> JupyterHubUser:
    return JupyterHubUser({"kind": kind, "name": name, "scopes": []})


def test_outside_a_hub_every_user_of_the_server_is_its_owner() -> None:
    assert counts_as_owner(User(username="anonymous-Kari"), {})
    assert counts_as_owner(None, {"JUPYTERHUB_USER": ""})


def test_on_a_hub_only_the_owner_counts() -> None:
    assert counts_as_owner(hub_user("alice"), ALICE_SERVER)
    assert not counts_as_owner(hub_user("bob"), ALICE_SERVER)  # shared access: access:servers!user=alice
    assert not counts_as_owner(hub_user("admin"), ALICE_SERVER)
    assert not counts_as_owner(None, ALICE_SERVER)


def test_a_service_named_like_the_owner_is_not_the_owner() -> None:
    assert not counts_as_owner(hub_user("alice", kind="service"), ALICE_SERVER)


@pytest.mark.parametrize(
    "value, disabled",
    [("", False), ("0", False), ("false", False), ("False", False), ("1", True), ("true", True), ("yes", True)],
)
def test_disable_user_config_reads_as_jupyterhub_reads_it(
    value: str, disabled: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from jupyterhub.utils import _bool_env

    monkeypatch.setenv("JUPYTERHUB_DISABLE_USER_CONFIG", value)
    assert user_config_disabled() is disabled is _bool_env("JUPYTERHUB_DISABLE_USER_CONFIG")


def test_folders_in_the_home_are_dropped_as_jupyterhub_drops_them(tmp_path, monkeypatch) -> None:
    from jupyterhub.singleuser._disable_user_config import _exclude_home

    home = tmp_path / "home"
    (home / ".jupyter").mkdir(parents=True)
    link = tmp_path / "link-home"
    link.symlink_to(home)
    monkeypatch.setenv("HOME", str(link))
    folders = [str(link / ".jupyter"), str(home), str(tmp_path / "env" / "etc" / "jupyter"), "/etc/jupyter"]
    assert outside_home(folders) == list(_exclude_home(folders)) == folders[2:]


def test_the_start_line_names_the_owner_and_what_disabled_user_config_means() -> None:
    assert (
        startup_line(ALICE_SERVER, "/m.json") == "jupyter-helpers: alice's server: only alice's own pages count "
        "as looking"
    )
    line = startup_line({**ALICE_SERVER, "JUPYTERHUB_DISABLE_USER_CONFIG": "1"}, "/home/alice/.jupyter/map.json")
    assert "per-user config is disabled" in line and line.endswith(
        "still reads the project map /home/alice/.jupyter/map.json"
    )
