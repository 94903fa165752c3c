"""Server-side presence switch: `c.PagePresence.enabled = False` leaves pages without the script
and the server without the endpoint (a real server, extension enabled by `jupyter-helpers install`)."""

from __future__ import annotations

import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from support.jupyter_server import BIN, TOKEN, JupyterServer, isolated_env


@pytest.mark.parametrize("enabled", [True, False])
def test_presence_can_be_switched_off_on_the_server(tmp_path: Path, enabled: bool) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    env = isolated_env(home)
    subprocess.run([str(BIN / "jupyter-helpers"), "install"], env=env, check=True, capture_output=True)
    if not enabled:
        (home / ".jupyter" / "jupyter_server_config.py").write_text("c.PagePresence.enabled = False\n")
    with JupyterServer("notebook", work, env, tmp_path / "server.log") as server:
        page = server.get("tree")
        request = urllib.request.Request(server.url + "jupyter-helpers/presence", method="POST",
                                         data=b'{"page": "abcdefgh", "seq": 1, "path": ""}',
                                         headers={"Authorization": f"token {TOKEN}"})
        try:
            status = urllib.request.urlopen(request, timeout=30).status
        except urllib.error.HTTPError as error:
            status = error.code
    assert (b'data-jupyter-helpers="presence"' in page) is enabled
    assert b'data-jupyter-helpers="title"' in page
    assert status == (204 if enabled else 404)
    assert ("presence reports are off" in server.log.read_text()) is not enabled
