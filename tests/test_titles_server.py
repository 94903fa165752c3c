"""The title extension's server side on a real Jupyter server: configuration and bad input (a bad
map: in the test process, with jupyter_server's pytest plugin). What the browser then shows is
covered in test_titles_browser.py."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from jupyter_helpers.server.pages import jinja_environments
from jupyter_helpers.server.titles import SCRIPT_GLOBAL

from support.jupyter_server import BIN, JupyterServer, in_process_config, isolated_env

CONFIG = re.compile(rb'data-jupyter-helpers="title">.*?var config = (\{.*?\});', re.S)


@pytest.fixture
def site(tmp_path: Path) -> dict:
    home, work = tmp_path / "home", tmp_path / "work"
    (work / "alpha").mkdir(parents=True)
    env = isolated_env(home)
    subprocess.run([str(BIN / "jupyter-helpers"), "install"], env=env, check=True, capture_output=True)
    return {"home": home, "work": work, "env": env, "tmp": tmp_path}


def page_config(server: JupyterServer) -> dict | None:
    match = CONFIG.search(server.get("tree"))
    return json.loads(match.group(1)) if match else None


def test_traitlets_config_adds_projects_and_format(site: dict) -> None:
    (site["home"] / ".jupyter" / "jupyter_server_config.py").write_text(
        f"c.ProjectTitles.projects = {{{str(site['work'] / 'alpha')!r}: 'From Config'}}\n"
        "c.ProjectTitles.title_format = '{title} | {project}'\n"
        "c.ProjectTitles.unmapped = 'none'\n"
    )
    with JupyterServer("server", site["work"], site["env"], site["tmp"] / "log", b"jupyter-helpers: ") as server:
        assert page_config(server) == {
            "base_url": "/jh/",
            "default": None,
            "format": "{title} | {project}",
            "prefixes": [["alpha", "From Config"]],
        }


@pytest.fixture
def jp_server_config() -> dict:
    return in_process_config()


@pytest.fixture
def map_file(jp_config_dir: Path, content: bytes) -> Path:
    """The project map as the server finds it at its start (`content` comes from the test's parameters)."""
    path = jp_config_dir / "jupyter_helpers_projects.json"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    "content, message",
    [
        (b'{"folders": {"/a": 1}}', "project name for '/a' must be a non-empty string"),
        (b'{"folders": ', "is not valid JSON"),
        (b'{"folders": {"relative/dir": "X"}}', "folder 'relative/dir' must be an absolute path"),
        (b'{"folders": {"/a": "caf\xe9"}}', "is not UTF-8 text (byte 23)"),
        (b"[" * 100000 + b"]" * 100000, "is nested too deeply to be a project map"),
    ],
)
async def test_a_bad_map_is_one_error_line_and_pages_keep_their_titles(
    map_file: Path, jp_serverapp, jp_fetch, caplog: pytest.LogCaptureFixture, message: str
) -> None:
    """A real server in the test process (jupyter_server's plugin), the extension's start hook run
    as a server runs it: one line naming the file and the fault, no traceback, no title script."""
    await jp_serverapp.extension_manager.start_all_extensions()
    assert (await jp_fetch("api", "status")).code == 200
    records = caplog.get_records("setup") + caplog.records
    errors = [record.getMessage() for record in records if "jupyter-helpers:" in record.getMessage()]
    assert len(errors) == 1 and "window titles get no project name" in errors[0] and message in errors[0], errors
    assert str(map_file) in errors[0]
    assert "Traceback" not in caplog.text and not [record for record in records if record.exc_info]
    environments = jinja_environments(jp_serverapp.web_app.settings)
    assert environments and not [env for env in environments if SCRIPT_GLOBAL in env.globals]


def test_pages_before_login_carry_no_project_map(site: dict) -> None:
    """A visitor who has not logged in sees neither the mapped folders nor the project names."""
    secret = site["work"] / "secret-client-folder"
    secret.mkdir()
    subprocess.run(
        [str(BIN / "jupyter-helpers"), "projects", "add", str(secret), "Secret Client"],
        env=site["env"],
        check=True,
        capture_output=True,
    )
    with JupyterServer("server", site["work"], site["env"], site["tmp"] / "log", b"jupyter-helpers: ") as server:
        pages = {path: server.visit(path) for path in ["login", "logout", "no/such/page", "tree"]}
        assert [status for status, _ in pages.values()] == [200, 200, 404, 200]  # tree: redirected to login
        for path, (_, body) in pages.items():
            assert b"<title>" in body, path
            for leak in (b"Secret Client", b"secret-client-folder", b"data-jupyter-helpers", b"prefixes"):
                assert leak not in body, (path, leak)
        status, body = server.visit("no/such/page", logged_in=True)
    assert status == 404 and b"Secret Client" in body  # the user's own pages keep their titles


@pytest.mark.parametrize("linked", ["root", "folder"])
def test_symlinked_root_or_folder_still_maps_projects(site: dict, linked: str) -> None:
    """`cd` through a symlink and `projects add .` records the real path; the server may be started
    on the link (or the other way round): both sides are compared with links resolved."""
    real = site["work"]
    link = site["tmp"] / "link"
    if linked == "root":
        link.symlink_to(real, target_is_directory=True)
        root, mapped = link, real / "alpha"
    else:
        link.symlink_to(real / "alpha", target_is_directory=True)
        root, mapped = real, link
    subprocess.run(
        [str(BIN / "jupyter-helpers"), "projects", "add", str(mapped), "Project Alpha"],
        env=site["env"],
        check=True,
        capture_output=True,
    )
    with JupyterServer("server", root, site["env"], site["tmp"] / "log", b"jupyter-helpers: ") as server:
        assert page_config(server)["prefixes"] == [["alpha", "Project Alpha"]]


def test_a_server_started_without_a_map_says_so_in_one_line_and_with_one_is_silent(site: dict) -> None:
    log = site["tmp"] / "log"
    with JupyterServer("server", site["work"], site["env"], log, b"jupyter-helpers: project names"):
        pass
    lines = [line for line in log.read_text().splitlines() if "no project map" in line]
    map_file = site["home"] / ".jupyter" / "jupyter_helpers_projects.json"
    assert (
        len(lines) == 1
        and f"jupyter-helpers: no project map at {map_file}, so titles show the server folder's name" in lines[0]
    )
    subprocess.run(
        [str(BIN / "jupyter-helpers"), "projects", "add", str(site["work"] / "alpha"), "Alpha"],
        env=site["env"],
        check=True,
        capture_output=True,
    )
    with JupyterServer("server", site["work"], site["env"], log, b"jupyter-helpers: project names"):
        pass
    assert "no project map" not in log.read_text()


@pytest.fixture
def no_user_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_NO_CONFIG", "1")


async def test_without_user_config_titles_say_so_and_presence_still_starts(
    no_user_config: None, jp_serverapp, jp_fetch, caplog: pytest.LogCaptureFixture
) -> None:
    """JUPYTER_NO_CONFIG: no map to read. The title hook's error escaped the start hook and the
    hooks after it (presence, heartbeats) never ran (review)."""
    from jupyter_helpers.server import presence

    await jp_serverapp.extension_manager.start_all_extensions()
    assert (await jp_fetch("api", "status")).code == 200
    errors = [
        record.getMessage() for record in caplog.records if "window titles get no project name" in record.getMessage()
    ]
    assert errors == [
        "jupyter-helpers: window titles get no project name: JUPYTER_NO_CONFIG is set, so Jupyter "
        "reads no user config; unset it and retry"
    ], caplog.text
    environments = jinja_environments(jp_serverapp.web_app.settings)
    assert environments and all(presence.SCRIPT_GLOBAL in env.globals for env in environments)
