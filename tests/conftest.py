"""Shared fixtures: an isolated home for every test that touches user files, the real CLI, and
the fake Telegram service."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from jupyter_core.utils import ensure_event_loop
from jupyter_server.serverapp import ServerApp

from jupyter_helpers.common import installation

from support.browser import chromium
from support.fake_telegram import FakeTelegram, write_credentials
from support.pythons import ipykernel_environment
from support.slow import Reach, guard, reaches_real_parts

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow: every test that reaches a real part through tests/ code (support/slow.py says how); the
    fast local loop (`pytest -m "not slow"`, CONTRIBUTING.md) leaves them out, CI runs everything."""
    reach = Reach()
    for item in items:
        if item.get_closest_marker("slow") is None and reaches_real_parts(item, reach):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def fast_loop_guard(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A test not marked slow that starts a process fails, here and in CI alike."""
    if request.node.get_closest_marker("slow") is None:
        guard(request.node, monkeypatch)


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


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """`jupyter-helpers ARGS` in this process (`cli.main`), for tests of what the command decides and
    prints where its process is not the point: run_cli's answer in milliseconds instead of a Python
    start. Its stdin is empty, as a pipe that was closed."""
    from jupyter_helpers.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), _no_stdin():
        try:
            code = main(list(args))
        except SystemExit as exited:  # argparse's usage errors and --help
            code = exited.code if isinstance(exited.code, int) else 1
    done = subprocess.CompletedProcess(["jupyter-helpers", *args], code, out.getvalue(), err.getvalue())
    if check and code != 0:
        raise AssertionError(f"jupyter-helpers {' '.join(args)} returned {code}:\n{done.stdout}{done.stderr}")
    return done


@contextlib.contextmanager
def _no_stdin() -> Iterator[None]:
    saved = sys.stdin
    sys.stdin = io.StringIO()
    try:
        yield
    finally:
        sys.stdin = saved


@pytest.fixture
def telegram(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch):
    """The fake Telegram service, with this home's ntfy credentials pointing at it."""
    with FakeTelegram(tmp_path) as fake:
        for name, value in fake.env().items():
            monkeypatch.setenv(name, value)
        write_credentials(home, TOKEN)
        yield fake


# The delivery child as kernels start it (common/installation.py records this command).
DELIVERY = [sys.executable, "-P", "-m", "jupyter_helpers.delivery"]


@pytest.fixture
def sender(telegram):
    """A kernel's sender, talking to the fake Telegram through the real delivery child."""
    from jupyter_helpers.common.sender import Sender

    sender = Sender(DELIVERY, timeout=20)
    yield sender
    sender.close()


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


@pytest.fixture
def jp_home_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    """pytest_jupyter's HOME for an in-process server, with jupyter-helpers installed for that user
    (the record `install` writes in the profile): the extension sends to the phone and ActivityWatch
    only where it is installed. `@pytest.mark.uninstalled`: a user who ran `uninstall`."""
    home = tmp_path / "jp_home"
    monkeypatch.setenv("IPYTHONDIR", str(home / ".ipython"))
    record = installation.record_path(home / ".ipython" / "profile_default")
    record.parent.mkdir(parents=True)
    if request.node.get_closest_marker("uninstalled") is None:
        record.write_bytes(installation.current().to_bytes())
    return home


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
    """Debian's headless Chromium, one per test module. Not one per session: while Playwright's
    sync API is open its loop runs on this thread, and no other loop can (the in-process server
    tests of later modules run pytest_jupyter's)."""
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def ipykernel_venv(request: pytest.FixtureRequest) -> Callable[[Path], Path]:
    """A venv of a given Python with only ipykernel, as a user makes one for a kernel of another
    environment; returns its python. Kept in pytest's cache folder (support/pythons.py), built with
    the environment as it was before any test moved HOME."""
    cache, env = request.config.cache.mkdir("kernel-pythons"), dict(os.environ)
    return lambda base: ipykernel_environment(base, cache, env)


@pytest.fixture
def live_site(tmp_path: Path) -> Iterator[dict]:
    """A kernel-death test's site (test_kernel_deaths.make_site) whose kernels send live messages,
    a second into a run and every second after, to a fake Bot API of its own (`["fake"]`)."""
    from test_kernel_deaths import make_site

    with FakeTelegram(tmp_path) as fake:
        made = make_site(tmp_path / "site", fake)
        (made["base"] / "home" / ".ipython" / "profile_default" / "ipython_kernel_config.py").write_text(
            "c.AutoNotify.after = 1\nc.AutoNotify.live = 1\nc.AutoNotify.live_every = 1\n"
        )
        made["fake"] = fake
        yield made


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto` (pyproject's addopts): one worker more than the machine has cores, as most of the
    suite's time is waiting (cells that sleep past a threshold, live edits a second apart, focus
    held for seconds, Telegram's delays) while the rest wants a core."""
    return (os.cpu_count() or 1) + 1
