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


def script_config(body: bytes) -> dict | None:
    match = CONFIG.search(body)
    return json.loads(match.group(1)) if match else None


async def logged_in_page(jp_fetch) -> bytes:
    """A page the server renders for its user (its 404 page: the in-process server serves no
    front end), with the page scripts the extension put in."""
    response = await jp_fetch("no", "such", "page", raise_error=False)
    assert response.code == 404
    return response.body


@pytest.fixture
def titles_config(jp_config_dir: Path, jp_root_dir: Path) -> None:
    """The user's jupyter_server_config.py (a fixture: the server reads it when it is created)."""
    (jp_config_dir / "jupyter_server_config.py").write_text(
        f"c.ProjectTitles.projects = {{{str(jp_root_dir / 'alpha')!r}: 'From Config'}}\n"
        "c.ProjectTitles.title_format = '{title} | {project}'\n"
        "c.ProjectTitles.unmapped = 'none'\n"
    )


async def test_traitlets_config_adds_projects_and_format(
    titles_config, jp_base_url: str, jp_serverapp, jp_fetch
) -> None:
    """The user's config file, read by a server in the test process as by any other."""
    await jp_serverapp.extension_manager.start_all_extensions()
    assert script_config(await logged_in_page(jp_fetch)) == {
        "base_url": jp_base_url,
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


def add_project(folder: Path, name: str) -> None:
    """`jupyter-helpers projects add` in the environment jupyter_server's plugin set up (its config dir)."""
    subprocess.run(
        [str(BIN / "jupyter-helpers"), "projects", "add", str(folder), name], check=True, capture_output=True
    )


@pytest.fixture
def jp_root_dir(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """The in-process server's folder, `work` with `alpha` in it; parametrized "root": started on
    `link` (a symlink to `work`), "folder": `link` points at `work/alpha` instead."""
    real = tmp_path / "work"
    (real / "alpha").mkdir(parents=True)
    linked = getattr(request, "param", None)
    if linked is None:
        return real
    link = tmp_path / "link"
    link.symlink_to(real if linked == "root" else real / "alpha", target_is_directory=True)
    return link if linked == "root" else real


@pytest.fixture
def linked_project(tmp_path: Path, jp_environ: None, jp_root_dir: Path) -> None:
    """The project added before the server starts (it reads the map once, at load)."""
    add_project(jp_root_dir / "alpha" if jp_root_dir.is_symlink() else tmp_path / "link", "Project Alpha")


@pytest.mark.parametrize("jp_root_dir", ["root", "folder"], indirect=True)
async def test_symlinked_root_or_folder_still_maps_projects(linked_project: None, jp_serverapp, jp_fetch) -> None:
    """`cd` through a symlink and `projects add .` records the real path; the server may be started
    on the link (or the other way round): both sides are compared with links resolved."""
    await jp_serverapp.extension_manager.start_all_extensions()
    assert script_config(await logged_in_page(jp_fetch))["prefixes"] == [["alpha", "Project Alpha"]]


@pytest.fixture
def maybe_mapped(jp_environ: None, jp_root_dir: Path, mapped: bool) -> None:
    """A project added before the server starts, when `mapped` (it reads the map once, at load)."""
    if mapped:
        add_project(jp_root_dir / "alpha", "Alpha")


@pytest.mark.parametrize("mapped", [False, True])
async def test_a_server_started_without_a_map_says_so_in_one_line_and_with_one_is_silent(
    maybe_mapped: None, jp_config_dir: Path, jp_serverapp, caplog: pytest.LogCaptureFixture, mapped: bool
) -> None:
    await jp_serverapp.extension_manager.start_all_extensions()
    assert "project names added to page titles" in caplog.text  # the hook did run
    lines = [record.getMessage() for record in caplog.records if "no project map" in record.getMessage()]
    map_file = jp_config_dir / "jupyter_helpers_projects.json"
    if mapped:
        assert lines == [] and map_file.exists()
    else:
        assert (
            len(lines) == 1
            and f"jupyter-helpers: no project map at {map_file}, so titles show the server folder's name" in lines[0]
        ), lines


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
