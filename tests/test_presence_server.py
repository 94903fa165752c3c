"""The presence endpoint and its store on a real Jupyter server: in the test process (jupyter_server's
pytest plugin: jp_serverapp, jp_fetch) for requests and log lines, as a separate process where only
a process shows it (the switch in the user's config, what a stopped server leaves behind)."""

from __future__ import annotations

import json
import logging
import os
import signal
import stat
import subprocess
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from tornado.httpclient import HTTPClientError

from jupyter_helpers.common.presence import MAX_FILE_BYTES, PRESENCE_DIR, read_presence
from jupyter_helpers.server.presence import MAX_PAGES_PER_KERNEL

from support.jupyter_server import (
    BIN,
    TOKEN,
    JupyterServer,
    in_process_config,
    isolated_env,
    open_session,
    start_extensions,
)

XSRF = "2|4f1c9a2e|9d2b7c1e0a4f6b8d3c5e7a9b1d3f5a7c|1760000000"


@pytest.fixture
def jp_server_config() -> dict:
    return in_process_config()


async def post(jp_fetch, body: bytes | dict, **kwargs) -> int:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    try:
        response = await jp_fetch("jupyter-helpers", "presence", method="POST", body=data, **kwargs)
    except HTTPClientError as error:
        return error.code
    return response.code


def looking(page: str, seq: int = 1, path: str = "a.ipynb", **changes) -> dict:
    return {"page": page, "seq": seq, "path": path, "focused": True, "visible": True, "idle": 0.5, **changes}


def presence_folder(app) -> Path:
    return Path(app.runtime_dir) / PRESENCE_DIR


def warnings_about(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.levelno >= logging.WARNING and text in record.getMessage()
    ]


async def test_deeply_nested_json_is_a_bad_request_not_a_crash(jp_fetch, jp_serverapp, caplog) -> None:
    """Issue 16 F9: 8 KB of brackets answered 500 with a traceback."""
    await start_extensions(jp_serverapp)
    assert await post(jp_fetch, b"[" * 4000 + b"]" * 4000) == 400
    assert await post(jp_fetch, b'{"a":' * 1300 + b"1" + b"}" * 1300) == 400
    assert not [record for record in caplog.records if record.exc_info], caplog.text
    assert "Traceback" not in caplog.text and "Uncaught exception" not in caplog.text
    assert (
        len(
            warnings_about(
                caplog,
                "400 POST /a%40b/jupyter-helpers/presence (127.0.0.1): presence report rejected: body nests too deeply",
            )
        )
        == 2
    )


async def test_the_xsrf_token_a_beacon_carries_stays_out_of_the_log(jp_fetch, jp_serverapp, caplog) -> None:
    """Issue 16 F11: the pagehide beacon passes its XSRF token in the URL; a rejected report
    (bad body: 400; no login: 403) wrote that URL to the server log."""
    await start_extensions(jp_serverapp)
    assert await post(jp_fetch, b"{", params={"_xsrf": XSRF}) == 400
    assert (
        await post(
            jp_fetch,
            looking("pageA0001"),
            params={"_xsrf": XSRF},
            headers={"Authorization": "token wrong", "Cookie": f"_xsrf={XSRF}"},
        )
        == 403
    )
    assert warnings_about(caplog, "presence") and warnings_about(caplog, "403")
    for secret in (XSRF, urllib.parse.quote(XSRF), XSRF.split("|")[2]):
        assert secret not in caplog.text


async def test_closed_pages_leave_the_record_and_it_stays_bounded(jp_fetch, jp_serverapp) -> None:
    """Issue 16 F2: every reload added a record for good; past ~430 the file outgrew what the kernel
    reads (64 KB) and a focused page no longer counted."""
    await start_extensions(jp_serverapp)
    kernel = await open_session(jp_fetch)
    for number in range(450):  # what 450 reloads send: one report, then the pagehide beacon
        page = f"pReload{number:06d}"
        assert await post(jp_fetch, looking(page, focused=False, idle=None)) == 204
        assert await post(jp_fetch, looking(page, seq=2, focused=False, visible=False, idle=None, closing=True)) == 204
    for number in range(MAX_PAGES_PER_KERNEL + 20):  # pages that stay open in the background
        assert await post(jp_fetch, looking(f"pOpen{number:07d}", focused=False)) == 204
    assert await post(jp_fetch, looking("pFocused01")) == 204
    path = presence_folder(jp_serverapp) / f"{kernel}.json"
    assert path.stat().st_size < MAX_FILE_BYTES / 4
    pages = read_presence(path)["pages"]
    assert len(pages) == MAX_PAGES_PER_KERNEL
    assert not [record for record in pages if record["closed"] or record["page"].startswith("pReload")]
    assert [record["page"] for record in pages if record["focused"]] == ["pFocused01"]

    # A page that closes leaves at once; the last one leaves an empty record (no page open).
    assert await post(jp_fetch, looking("pFocused01", seq=2, focused=False, visible=False, closing=True)) == 204
    assert "pFocused01" not in json.dumps(read_presence(path))


@pytest.mark.parametrize("problem", ["open to other users", "belongs to another user"])
async def test_a_presence_folder_others_could_use_is_refused_with_one_warning(
    jp_fetch, jp_serverapp, caplog, problem: str
) -> None:
    """Issue 16 F17 and F18: a presence folder someone else owns, or one open to others, is used
    by neither side (another user could forge 'looking'), and the server says so once, not once
    per report."""
    await start_extensions(jp_serverapp)
    kernel = await open_session(jp_fetch)
    folder = presence_folder(jp_serverapp)
    folder.mkdir(mode=0o700)
    if problem == "open to other users":
        folder.chmod(0o777)
    else:
        os.chown(folder, 65534, 65534)
    for seq in range(1, 6):
        assert await post(jp_fetch, looking("pShared001", seq=seq, focused=seq % 2 == 1)) == 204
    assert not (folder / f"{kernel}.json").exists()
    warned = warnings_about(caplog, "could not record presence")
    assert len(warned) == 1 and problem in warned[0] and str(folder) in warned[0], warned

    # The kernel's side refuses a forged file there too.
    forged = folder / f"{kernel}.json"
    forged.write_text(json.dumps({"kernel": kernel, "pages": [{"page": "x", "focused": True}]}))
    assert read_presence(forged) is None


async def test_the_warning_comes_back_after_the_folder_worked_again(jp_fetch, jp_serverapp, caplog) -> None:
    await start_extensions(jp_serverapp)
    kernel = await open_session(jp_fetch)
    folder = presence_folder(jp_serverapp)
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    assert await post(jp_fetch, looking("pAgain0001", seq=1)) == 204
    folder.chmod(0o700)
    assert await post(jp_fetch, looking("pAgain0001", seq=2, focused=False)) == 204
    assert (folder / f"{kernel}.json").exists()
    folder.chmod(0o755)
    assert await post(jp_fetch, looking("pAgain0001", seq=3)) == 204
    assert len(warnings_about(caplog, "could not record presence")) == 2


async def test_the_stop_hook_ends_what_the_extension_started(jp_fetch, jp_serverapp) -> None:
    """The extension's one owner (an ExtensionApp) ends in the stop hook the server awaits: no
    presence file, timer, followed kernel or thread of ours stays."""
    before = set(threading.enumerate())  # (a thread of an earlier test in this worker may still be ending)
    await start_extensions(jp_serverapp)
    await open_session(jp_fetch)
    assert await post(jp_fetch, looking("pStopHook1")) == 204
    app = jp_serverapp.extension_manager.extension_points["jupyter_helpers"].app
    assert app.presence.watcher is not None and app.deaths.kernels and list(presence_folder(jp_serverapp).iterdir())
    await jp_serverapp.cleanup_extensions()
    assert list(presence_folder(jp_serverapp).iterdir()) == []
    assert app.presence.watcher is None and app.deaths.kernels == {} and not app.deaths.tasks
    assert not [thread for thread in set(threading.enumerate()) - before if thread.name.startswith("jupyter-helpers")]


# -- a separate server process: the user's config, and what a stopped server leaves -------------


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
        request = urllib.request.Request(
            server.url + "jupyter-helpers/presence",
            method="POST",
            data=b'{"page": "abcdefgh", "seq": 1, "path": ""}',
            headers={"Authorization": f"token {TOKEN}"},
        )
        try:
            status = urllib.request.urlopen(request, timeout=30).status
        except urllib.error.HTTPError as error:
            status = error.code
    assert (b'data-jupyter-helpers="presence"' in page) is enabled
    assert b'data-jupyter-helpers="title"' in page
    assert status == (204 if enabled else 404)
    assert ("presence reports are off" in server.log.read_text()) is not enabled


def api(server: JupyterServer, path: str, body: dict) -> bytes:
    request = urllib.request.Request(
        server.url + path, method="POST", data=json.dumps(body).encode(), headers={"Authorization": f"token {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.read()


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM", "Ctrl-C in its terminal"])
def test_presence_files_go_when_the_server_stops_with_kernels_open(tmp_path: Path, stop: str) -> None:
    """Issue 16 F8 / issue 19: Ctrl-C (SIGINT) or SIGTERM while kernels run left their presence
    files in the runtime folder for good. SIGTERM and Ctrl-C in a terminal stop the server through
    its shutdown, which runs the extension's stop hook; a SIGINT without a terminal ends the
    process without it (jupyter_server's own choice), and the exit itself removes them."""
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    env = isolated_env(home)
    subprocess.run([str(BIN / "jupyter-helpers"), "install"], env=env, check=True, capture_output=True)
    folder = home / ".local/share/jupyter/runtime" / PRESENCE_DIR
    with JupyterServer("notebook", work, env, tmp_path / "server.log", terminal=stop.startswith("Ctrl-C")) as server:
        kernels = [
            json.loads(
                api(
                    server,
                    "api/sessions",
                    {"path": name, "type": "notebook", "name": name, "kernel": {"name": "python3"}},
                )
            )["kernel"]["id"]
            for name in ("a.ipynb", "b.ipynb")
        ]
        for number, name in enumerate(("a.ipynb", "b.ipynb")):
            api(server, "jupyter-helpers/presence", looking(f"pStop{number:05d}", path=name))
        assert sorted(path.name for path in folder.iterdir()) == sorted(f"{kernel}.json" for kernel in kernels)
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        if stop.startswith("Ctrl-C"):
            server.interrupt()
        else:
            server.process.send_signal(getattr(signal, stop))
        assert server.process.wait(timeout=60) is not None
    assert list(folder.iterdir()) == [], server.log.read_text()[-3000:]
    stopped = "jupyter-helpers: stopped (presence files removed" in server.log.read_text()
    assert stopped is (stop != "SIGINT"), server.log.read_text()[-3000:]
