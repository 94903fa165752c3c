"""Shared fixtures: an isolated home for every test that touches user files, the real CLI, and
the fake Telegram service."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from jupyter_core.utils import ensure_event_loop
from jupyter_server.serverapp import ServerApp

from support.browser import chromium
from support.fake_telegram import FakeTelegram, write_credentials

# jupyter_server's test plugin (jp_serverapp, jp_fetch, jp_server_config): a real server inside the
# test process, for endpoint and log-line tests that need no browser.
pytest_plugins = ["pytest_jupyter.jupyter_server"]

BIN = Path(sys.executable).parent
TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijkl"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """In CI every test must really run: a skip (no Chromium, a missing tool) is a failure there,
    while a user's machine may skip with the reason."""
    outcome = yield
    report = outcome.get_result()
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"skipped in CI, where every test must run: {reason}"


# Test modules that start real kernels, Jupyter servers, aw-server, a hub, Chromium, pip, or a
# process per case (the CLI, the delivery child): the fast local loop (`pytest -m "not slow"`,
# CONTRIBUTING.md) leaves them out; CI runs everything.
SLOW_MODULES = frozenset(
    {
        "test_activitywatch_report_hostile",
        "test_activitywatch_report_server",
        "test_attack_kernel",
        "test_delivery",
        "test_delivery_kernel",
        "test_dependencies",
        "test_environment",
        "test_heartbeat_status",
        "test_heartbeats",
        "test_heartbeats_browser",
        "test_input_waits",
        "test_install",
        "test_jupyterhub",
        "test_deaths_server",
        "test_kernel_deaths",
        "test_kernel_purity",
        "test_names",
        "test_notify_cli",
        "test_notify_kernel",
        "test_presence_browser",
        "test_presence_server",
        "test_quickstart",
        "test_readme",
        "test_reliability",
        "test_run_images",
        "test_runs",
        "test_status",
        "test_stopped_runs",
        "test_telegram_setup",
        "test_title_rules",
        "test_titles_browser",
        "test_titles_server",
        "test_wsl",
    }
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.module is not None and item.module.__name__ in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """HOME, IPYTHONDIR, JUPYTER_* and XDG dirs under a temp dir, for this process and children."""
    root = tmp_path / "home"
    root.mkdir()
    for name, value in {
        "HOME": root,
        "IPYTHONDIR": root / ".ipython",
        "JUPYTER_CONFIG_DIR": root / ".jupyter",
        "JUPYTER_DATA_DIR": root / ".local/share/jupyter",
        "JUPYTER_RUNTIME_DIR": root / ".local/share/jupyter/runtime",
        "XDG_CONFIG_HOME": root / ".config",
        "XDG_DATA_HOME": root / ".local/share",
    }.items():
        monkeypatch.setenv(name, str(value))
    for name in ("JUPYTER_HELPERS_SYSROOT", "JPY_SESSION_NAME", "WSL_DISTRO_NAME", "WSL_INTEROP", "BROWSER"):
        monkeypatch.delenv(name, raising=False)
    return root


def run_cli(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    """The installed `jupyter-helpers` command, exactly as a user runs it."""
    done = subprocess.run([str(BIN / "jupyter-helpers"), *args], capture_output=True, text=True, timeout=120, **kwargs)
    if check and done.returncode != 0:
        raise AssertionError(f"jupyter-helpers {' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done


@pytest.fixture
def telegram(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch):
    """The fake Telegram service, with this home's ntfy credentials pointing at it."""
    with FakeTelegram(tmp_path) as fake:
        for name, value in fake.env().items():
            monkeypatch.setenv(name, value)
        write_credentials(home, TOKEN)
        yield fake


@pytest.fixture
def kernel_home(home: Path, telegram, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Installed with the real CLI into the isolated home; the notebook's folder (see
    support.kernels.prepare_kernel_home), messages going to the fake Telegram."""
    from support.kernels import prepare_kernel_home

    return prepare_kernel_home(home, monkeypatch)


@pytest.fixture
def recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`recorder_backend` (tests/support/ntfy_backends) importable by the sender child; returns the
    file it writes what it received to."""
    received = tmp_path / "received.txt"
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent / "support" / "ntfy_backends"))
    monkeypatch.setenv("RECORDER_FILE", str(received))
    return received


@pytest.fixture(autouse=True)
def jp_asyncio_loop():
    """jupyter_server's plugin gives every test an event loop and closes it afterwards; in a test
    that drives Chromium that loop is Playwright's own, running, which must stay open."""
    loop = ensure_event_loop(prefer_selector_loop=True)
    yield loop
    if not loop.is_running():
        loop.close()


@pytest.fixture(autouse=True)
def jp_server_cleanup(jp_asyncio_loop):
    """The plugin's clean-up of the in-process server, only after a test that started one (the
    plugin's own would create a server object after every test, and cannot run in Playwright's loop)."""
    yield
    if ServerApp.initialized() and not jp_asyncio_loop.is_running():
        app = ServerApp.instance()
        jp_asyncio_loop.run_until_complete(app._cleanup())
        if hasattr(app, "kernel_manager"):
            app.kernel_manager.context.destroy()
        ServerApp.clear_instance()


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, one per test module."""
    with chromium() as launched:
        yield launched
