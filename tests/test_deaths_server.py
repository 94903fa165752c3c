"""The kernel watch's decisions, in a real Jupyter server inside the test process (jupyter_server's
pytest plugin): what is logged and queued for a death. The deaths themselves (a real kernel killed,
out of memory, crashing) are in test_kernel_deaths.py."""

from __future__ import annotations

import asyncio
import logging
import sys
import time

import pytest

from jupyter_helpers.common.sender import Sender

from support.jupyter_server import in_process_config, open_session, start_extensions


@pytest.fixture
def jp_server_config() -> dict:
    return in_process_config()


async def test_a_death_message_the_full_queue_drops_is_logged_as_dropped_naming_its_notebook(
    jp_fetch, jp_serverapp, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 24: a dropped message's line said "phone message queued". A delivery child that never
    answers and a queue of one: of three deaths, the worker holds one, one waits, one drops."""
    await start_extensions(jp_serverapp)
    kernel_id = await open_session(jp_fetch, "burst/nb07.ipynb")
    watcher = jp_serverapp.extension_manager.extension_points["jupyter_helpers"].app.deaths
    watcher.sender = Sender([sys.executable, "-c", "import sys; sys.stdin.read()"], 30.0, limit=1)
    await watcher.report(kernel_id, "SIGKILL: out of memory?", None, False, None, False)
    deadline = time.monotonic() + 30  # the worker takes it and starts the child (a loaded machine: later)
    while watcher.sender.child_pid is None:
        assert time.monotonic() < deadline, "the sender's worker never took the first message"
        await asyncio.sleep(0.05)
    for _ in range(2):
        await watcher.report(kernel_id, "SIGKILL: out of memory?", None, False, None, False)
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and " died (" in r.getMessage()]
    assert len(lines) == 3 and all(f"kernel {kernel_id} (burst/nb07.ipynb) died (" in line for line in lines), lines
    outcomes = [line.rsplit("; phone message ", 1)[1] for line in lines]
    assert outcomes == ["queued", "queued", "dropped (1 already waiting to be sent)"], outcomes


async def test_autonotify_enabled_false_sends_no_death(jp_fetch, jp_serverapp, caplog, tmp_path) -> None:
    """docs/kernel-deaths.md: `c.AutoNotify.enabled = False` turns autonotify off; the server still
    sent 💀 with it (hostile round). The server reads the profile's c.AutoNotify as kernels do."""
    await start_extensions(jp_serverapp)
    kernel_id = await open_session(jp_fetch, "off/nb.ipynb")
    watcher = jp_serverapp.extension_manager.extension_points["jupyter_helpers"].app.deaths
    watcher.profile_dir = tmp_path / "profile_default"
    watcher.profile_dir.mkdir()
    (watcher.profile_dir / "ipython_kernel_config.py").write_text("c.AutoNotify.enabled = False\n")
    watcher.sender = Sender([sys.executable, "-c", "import sys; sys.stdin.read()"], 30.0, limit=1)
    await watcher.report(kernel_id, "SIGKILL: out of memory?", None, False, None, False)
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and " died (" in r.getMessage()]
    assert len(lines) == 1 and lines[0].endswith("; phone message not sent (c.AutoNotify.enabled = False)"), lines
    assert watcher.sender.child_pid is None  # nothing was handed to a delivery child
