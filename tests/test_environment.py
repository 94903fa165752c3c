"""`install --sys-prefix`: every user of an environment, through the real command run from an
environment of its own (tests/support/environments.py: jupyter-helpers pip-installed from this
checkout's wheel), real kernels of that environment, and the real ntfy chain to the fake Telegram."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_helpers.common.presence import presence_file, write_private_json
from jupyter_helpers.installer.install import server_extension_content

from support.environments import Environment, make_environment, project_wheel
from support.fake_telegram import write_credentials
from support.jupyter_server import JupyterServer, isolated_env
from support.kernels import MARKER, WATCHER, the_one
from support.notebooks import run_notebook, save_notebook, stream_text
from support.snapshot import snapshot
from support.waiting import wait_until

SERVER_FILE = Path("jupyter/jupyter_server_config.d/jupyter_helpers.json")
KERNEL_CONFIG = Path("ipython/ipython_kernel_config.json")
ADMINS_KERNEL_CONFIG = '{"InteractiveShellApp": {"extra_extensions": ["autoreload"]}, "IPKernelApp": {}}\n'


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Environment:
    base = tmp_path_factory.mktemp("environment")
    return make_environment(base / "env", project_wheel(tmp_path_factory))


@pytest.fixture
def env(built: Environment) -> Iterator[Environment]:
    """The environment as pip left it; whatever a test did to its etc/ is put back afterwards."""
    pristine = built.prefix.parent / "etc-as-pip-left-it"
    if not pristine.exists():
        shutil.copytree(built.etc, pristine, symlinks=True)
    yield built
    shutil.rmtree(built.etc)
    shutil.copytree(pristine, built.etc, symlinks=True)


def cli(env: Environment, *args: str, check: bool = True, **extra: str) -> subprocess.CompletedProcess:
    """The environment's `jupyter-helpers`, with its bin/ first on PATH (as once activated)."""
    environ = {**os.environ, "PATH": f"{env.bin}{os.pathsep}{os.environ['PATH']}", **extra}
    done = subprocess.run(
        [str(env.bin / "jupyter-helpers"), *args], capture_output=True, text=True, timeout=120, env=environ
    )
    assert "Traceback" not in done.stdout + done.stderr, done.stdout + done.stderr
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def jupyter(env: Environment, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(env.bin / "jupyter"), *args], capture_output=True, text=True, timeout=120)


def add_kernelspec(env: Environment, home: Path) -> str:
    """A kernel of the environment, as `python -m ipykernel install --user` registers it."""
    spec = home / ".local/share/jupyter/kernels/hubenv"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(env.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "The hub's environment",
                "language": "python",
            }
        )
    )
    return "hubenv"


def test_pip_enables_the_extension_so_jupyters_own_switches_work(env: Environment, home: Path) -> None:
    """`jupyter server extension enable/disable` only toggle an extension already named in the folder
    they write to; pip's file names it in the environment, `jupyter-helpers install` in the home."""
    assert (env.etc / SERVER_FILE).read_bytes() == server_extension_content()
    done = jupyter(env, "server", "extension", "disable", "--sys-prefix", "jupyter_helpers")
    assert "Extension successfully disabled" in done.stderr, done.stderr
    assert json.loads((env.etc / SERVER_FILE).read_text())["ServerApp"]["jpserver_extensions"] == {
        "jupyter_helpers": False
    }
    done = jupyter(env, "server", "extension", "enable", "--sys-prefix", "jupyter_helpers")
    assert "Extension successfully enabled" in done.stderr, done.stderr

    cli(env, "install")
    user_file = home / ".jupyter/jupyter_server_config.d/jupyter_helpers.json"
    done = jupyter(env, "server", "extension", "disable", "--user", "jupyter_helpers")
    assert "Extension successfully disabled" in done.stderr, done.stderr
    assert json.loads(user_file.read_text())["ServerApp"]["jpserver_extensions"] == {"jupyter_helpers": False}


def test_install_for_every_user_then_uninstall_leaves_etc_byte_for_byte(env: Environment, home: Path) -> None:
    (env.etc / "ipython").mkdir()
    (env.etc / KERNEL_CONFIG).write_text(ADMINS_KERNEL_CONFIG)
    jupyter(env, "server", "extension", "disable", "--sys-prefix", "jupyter_helpers")  # the admin's choice so far
    before = snapshot(env.etc)

    assert "would update: " + str(env.etc / KERNEL_CONFIG) in cli(env, "install", "--sys-prefix", "--dry-run").stdout
    assert snapshot(env.etc) == before
    done = cli(env, "install", "--sys-prefix")
    assert f"replaced (backup kept): {env.etc / SERVER_FILE}" in done.stdout
    assert f"updated: {env.etc / KERNEL_CONFIG}" in done.stdout
    assert json.loads((env.etc / KERNEL_CONFIG).read_text()) == {
        "InteractiveShellApp": {"extra_extensions": ["autoreload", "jupyter_helpers"]},
        "IPKernelApp": {},
    }
    assert (env.etc / SERVER_FILE).read_bytes() == server_extension_content()
    assert "unchanged" in cli(env, "install", "--sys-prefix").stdout
    assert not (home / ".ipython").exists() and not (home / ".jupyter").exists()  # nothing per user

    done = cli(env, "uninstall", "--sys-prefix")
    assert f"restored: {env.etc / KERNEL_CONFIG}" in done.stdout and f"restored: {env.etc / SERVER_FILE}" in done.stdout
    assert snapshot(env.etc) == before
    assert "nothing to do" in cli(env, "uninstall", "--sys-prefix").stdout
    assert snapshot(env.etc) == before


def test_after_pip_the_extension_file_is_pips_and_uninstall_leaves_it(env: Environment) -> None:
    before = snapshot(env.etc)
    done = cli(env, "install", "--sys-prefix")
    assert f"unchanged: {env.etc / SERVER_FILE}" in done.stdout and f"wrote: {env.etc / KERNEL_CONFIG}" in done.stdout
    cli(env, "uninstall", "--sys-prefix")
    assert snapshot(env.etc) == before


def test_the_admins_edit_after_install_stays_and_only_our_item_leaves(env: Environment) -> None:
    (env.etc / "ipython").mkdir()
    (env.etc / KERNEL_CONFIG).write_text(ADMINS_KERNEL_CONFIG)
    cli(env, "install", "--sys-prefix")
    config = json.loads((env.etc / KERNEL_CONFIG).read_text())
    config["IPKernelApp"]["matplotlib"] = "inline"
    (env.etc / KERNEL_CONFIG).write_text(json.dumps(config))
    done = cli(env, "uninstall", "--sys-prefix")
    assert f"{env.etc / KERNEL_CONFIG}" in done.stdout
    assert json.loads((env.etc / KERNEL_CONFIG).read_text()) == {
        "InteractiveShellApp": {"extra_extensions": ["autoreload"]},
        "IPKernelApp": {"matplotlib": "inline"},
    }
    assert not (env.etc / "jupyter/jupyter_helpers").exists()


def test_a_user_who_installed_nothing_is_notified_and_status_is_all_ok(
    env: Environment, home: Path, telegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli(env, "install", "--sys-prefix")
    workdir = home / "work"
    workdir.mkdir()
    monkeypatch.setenv("JPY_SESSION_NAME", str(workdir / "analysis.ipynb"))
    kernel = add_kernelspec(env, home)
    run_notebook(["%autonotify -a 1", "import time; time.sleep(1.5); 'done'", MARKER], workdir, kernel_name=kernel)
    texts = telegram.wait_for(2)
    assert the_one(texts, "finished after").startswith("✅ analysis.ipynb: cells [1]–[3] finished after")
    assert not (home / ".ipython/profile_default/startup/00-jupyter-helpers.py").exists()  # nothing of hers

    done = cli(env, "status")
    lines = done.stdout.splitlines()
    assert [line for line in lines if not line.startswith("ok ")] == [], done.stdout
    assert f"ok   kernels load jupyter-helpers for every user of {env.prefix} by {env.etc / KERNEL_CONFIG}" in lines
    assert f"ok   sender: {env.python}, the kernels' own Python" in done.stdout
    assert (
        f"ok   window-title server extension enabled for every user of {env.prefix}: {env.etc / SERVER_FILE}"
        f" (for {env.bin / 'jupyter'})"
    ) in lines


def test_installed_both_ways_a_kernel_loads_once_and_sends_once(
    env: Environment, home: Path, telegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli(env, "install", "--sys-prefix")
    cli(env, "install")
    workdir = home / "work"
    workdir.mkdir()
    monkeypatch.setenv("JPY_SESSION_NAME", str(workdir / "twice.ipynb"))
    notebook = run_notebook(
        [
            "print(len([cb for cb in get_ipython().events.callbacks['post_run_cell'] "
            "if type(getattr(cb, '__self__', None)).__name__ == 'RunWatcher']))",
            "%autonotify -a 1",
            "import time; time.sleep(1.5); 'once'",
            f"{WATCHER}.wait_idle(20)",
            MARKER,
        ],
        workdir,
        kernel_name=add_kernelspec(env, home),
    )
    assert stream_text(notebook.cells[0]).strip() == "1"
    texts = telegram.wait_for(2)
    assert len(texts) == 2, texts
    assert the_one(texts, "finished after").startswith("✅ twice.ipynb: cells [1]–[5] finished after")
    status = cli(env, "status").stdout
    assert "(kernels are also set up for every user of" in status and "they load jupyter-helpers once" in status


def test_on_a_hub_without_user_config_a_per_user_install_alone_is_one_line(env: Environment, home: Path) -> None:
    """The admin switched the extension off for the environment; the user installed for themselves;
    the hub's servers ignore the user's Jupyter config (c.Spawner.disable_user_config = True)."""
    jupyter(env, "server", "extension", "disable", "--sys-prefix", "jupyter_helpers")
    cli(env, "install")
    write_credentials(home, "1:x", 5)
    done = cli(env, "status", check=False, JUPYTERHUB_DISABLE_USER_CONFIG="1")
    errors = [line for line in done.stdout.splitlines() if line.startswith("ERR")]
    assert done.returncode == 1 and len(errors) == 1, done.stdout
    user_file = home / ".jupyter/jupyter_server_config.d/jupyter_helpers.json"
    assert errors[0] == (
        "ERR  per-user config is disabled on this hub (JUPYTERHUB_DISABLE_USER_CONFIG), so your "
        f"server ignores {user_file}: no project titles, no presence (messages go out while you "
        "watch); ask the hub admin to run `jupyter-helpers install --sys-prefix` in the servers' "
        "environment"
    )
    cli(env, "install", "--sys-prefix")
    assert cli(env, "status", check=False, JUPYTERHUB_DISABLE_USER_CONFIG="1").returncode == 0


def test_files_an_admin_wrote_by_hand_count_as_installed_for_everyone(env: Environment, home: Path) -> None:
    """The issue's starting point: `c.InteractiveShellApp.extensions` in the environment's
    ipython_kernel_config.py worked, yet status printed three ERR lines."""
    (env.etc / "ipython").mkdir()
    (env.etc / "ipython/ipython_kernel_config.py").write_text(
        "c.InteractiveShellApp.extensions = ['jupyter_helpers']\n"
    )
    write_credentials(home, "1:x", 5)
    done = cli(env, "status", check=False)
    assert done.returncode == 0, done.stdout
    assert (
        f"ok   kernels load jupyter-helpers for every user of {env.prefix} by "
        f"{env.etc / 'ipython/ipython_kernel_config.py'}" in done.stdout.splitlines()
    )
    (home / ".ipython/profile_default").mkdir(parents=True)  # a profile that replaces the list: no longer loaded
    (home / ".ipython/profile_default/ipython_kernel_config.json").write_text(
        '{"InteractiveShellApp": {"extensions": ["autoreload"]}}'
    )
    assert "ERR  startup file missing" in cli(env, "status", check=False).stdout


def _kernel_settings(env: Environment, home: Path) -> tuple[str, str]:
    """What a kernel of the environment uses: `%autonotify --status`, and the time limit and
    presence window its AutoNotify holds, with the lines it showed about bad values."""
    notebook = run_notebook(
        [
            "%autonotify --status",
            "settings = [c for c in get_ipython().configurables if type(c).__name__ == 'AutoNotify'][0]\n"
            "print(settings.send_timeout, settings.present_for)",
        ],
        home,
        kernel_name="hubenv",
    )
    return stream_text(notebook.cells[0]), stream_text(notebook.cells[1])


def _looking_long_ago(runtime: Path, kernel_id: str, idle: float) -> None:
    """A focused page of the kernel's notebook, reporting now, whose last input was `idle` s ago."""
    now = time.time()
    page = {"page": str(uuid.uuid4()), "focused": True, "visible": True, "closed": False}
    write_private_json(
        presence_file(runtime, kernel_id),
        {"kernel": kernel_id, "pages": [{**page, "reported": now, "last_input": now - idle}]},
    )


def test_settings_in_the_environments_etc_reach_its_kernels_and_its_servers_death_messages(
    env: Environment, home: Path, telegram
) -> None:
    """`c.AutoNotify` in <sys.prefix>/etc/ipython (where a hub admin writes) reaches the
    environment's kernels and its server alike; a profile value a kernel refuses (send_timeout 0.5,
    present_for 100000: their defaults instead) is refused by the server too, with the same line
    (issue 24: the server read the profile only, and took both values)."""
    from test_kernel_deaths import Kernel, log_lines

    cli(env, "install", "--sys-prefix")
    add_kernelspec(env, home)
    (env.etc / "ipython" / "ipython_config.py").write_text("c.AutoNotify.present_for = 1500\n")
    status, values = _kernel_settings(env, home)
    assert "input within 1500 s" in status and values.split() == ["30.0", "1500.0"], (status, values)

    work, runtime = home / "work", home / ".local/share/jupyter/runtime"
    work.mkdir()
    save_notebook(work / "held.ipynb")
    save_notebook(work / "sent.ipynb")
    server_env = {**isolated_env(home), "PATH": f"{env.bin}{os.pathsep}{os.environ['PATH']}"}
    with JupyterServer("notebook", work, server_env, home / "server.log", bin=env.bin) as server:
        kernel = Kernel(server, runtime, "held.ipynb")  # the server's python3 is the environment's Python
        try:
            _looking_long_ago(runtime, kernel.id, 1000)  # within the admin's 1500 s
            os.kill(kernel.pid(), signal.SIGKILL)
            assert wait_until(lambda: log_lines(server, "phone message held"), timeout=60), server.log.read_text()
        finally:
            kernel.close()

        profile = home / ".ipython/profile_default/ipython_kernel_config.py"
        profile.parent.mkdir(parents=True, exist_ok=True)
        profile.write_text("c.AutoNotify.send_timeout = 0.5\nc.AutoNotify.present_for = 100000\n")
        status, values = _kernel_settings(env, home)
        assert "input within 120 s" in status and values.split() == ["30.0", "120.0"], (status, values)
        refused = [
            f"c.AutoNotify.send_timeout = 0.5 in {profile} is not a number of seconds from 1 to 3600; using 30.0",
            f"c.AutoNotify.present_for = 100000 in {profile} is not a number of seconds from 0 to 86400; using 120.0",
        ]
        kernel = Kernel(server, runtime, "sent.ipynb")
        try:
            _looking_long_ago(runtime, kernel.id, 1000)  # beyond the 120 s the kernel uses
            os.kill(kernel.pid(), signal.SIGKILL)
            texts = telegram.wait_for(1, timeout=60)
        finally:
            kernel.close()
        assert [text for text in texts if text.startswith("💀 sent.ipynb: kernel died (SIGKILL")], texts
        assert all(log_lines(server, line) for line in refused), log_lines(server)
