"""`jupyter-helpers install / uninstall / status` through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import run_cli
from support.notebooks import run_notebook, stream_text
from support.snapshot import snapshot

USER_STARTUP = "print('user startup ran')\n"
USER_SERVER_CONFIG = '{"ServerApp": {"port": 9999}}\n'


@pytest.fixture
def user_files(home: Path) -> Path:
    """A home that already has the user's own startup file and Jupyter config."""
    startup = home / ".ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "50-mine.py").write_text(USER_STARTUP)
    (home / ".jupyter").mkdir()
    (home / ".jupyter" / "jupyter_server_config.json").write_text(USER_SERVER_CONFIG)
    return home


def test_install_twice_then_uninstall_restores_the_home_exactly(user_files: Path) -> None:
    before = snapshot(user_files)
    first = run_cli("install")
    assert "wrote: " + str(user_files / ".ipython/profile_default/startup/00-jupyter-helpers.py") in first.stdout
    assert "wrote: " + str(user_files / ".jupyter/jupyter_server_config.d/jupyter_helpers.json") in first.stdout
    installed = snapshot(user_files)

    second = run_cli("install")
    assert "wrote" not in second.stdout and second.stdout.count("unchanged: ") == 3
    assert snapshot(user_files) == installed

    run_cli("uninstall")
    assert snapshot(user_files) == before
    assert "nothing to do" in run_cli("uninstall").stdout


def test_dry_run_writes_nothing(home: Path) -> None:
    out = run_cli("install", "--dry-run").stdout
    assert out.count("would create: ") == 3
    assert snapshot(home) == {}


def test_other_profile_is_created_and_removed_again(home: Path) -> None:
    run_cli("install", "--profile", "work")
    assert (home / ".ipython/profile_work/startup/00-jupyter-helpers.py").is_file()
    run_cli("uninstall", "--profile", "work")
    assert snapshot(home) == {}


def test_a_changed_file_of_ours_is_backed_up_and_restored(home: Path) -> None:
    startup = home / ".ipython/profile_default/startup"
    startup.mkdir(parents=True)
    (startup / "00-jupyter-helpers.py").write_text("# the user's own file that happens to share our name\n")
    before = snapshot(home)
    out = run_cli("install").stdout
    assert "replaced (backup kept): " + str(startup / "00-jupyter-helpers.py") in out
    run_cli("uninstall")
    assert snapshot(home) == before


def test_read_only_profile_gives_one_line_and_exit_2(home: Path) -> None:
    profile = home / ".ipython" / "profile_default"
    profile.mkdir(parents=True)
    before = snapshot(home)
    profile.chmod(0o555)
    try:
        done = run_cli("install", check=False)
    finally:
        profile.chmod(0o755)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("jupyter-helpers: error: cannot write ")
    assert "not a writable directory" in done.stderr
    assert snapshot(home) == before


def test_config_dir_that_is_a_file_fails_before_writing_anything(home: Path) -> None:
    (home / ".jupyter").write_text("not a directory")
    before = snapshot(home)
    done = run_cli("install", check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert f"{home / '.jupyter'} is not a writable directory" in done.stderr
    assert snapshot(home) == before


def test_a_failed_write_midway_rolls_back(home: Path) -> None:
    """A directory sits where the extension file goes: the profile files are written first, then
    that write fails, and everything already written is taken back."""
    (home / ".jupyter" / "jupyter_server_config.d" / "jupyter_helpers.json").mkdir(parents=True)
    before = snapshot(home)
    done = run_cli("install", check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("jupyter-helpers: error: could not write ")
    assert done.stderr.endswith("nothing was changed\n")
    assert snapshot(home) == before


def test_status_reports_each_part_and_exits_1_when_something_is_missing(home: Path) -> None:
    done = run_cli("status", check=False)
    assert done.returncode == 1
    assert "ERR  startup file missing" in done.stdout
    run_cli("install")
    done = run_cli("status", check=False)
    lines = done.stdout.splitlines()
    assert [line for line in lines if line.startswith("ERR")] == [
        line for line in lines if "Telegram credentials missing" in line
    ]
    assert done.returncode == 1
    ntfy = home / ".config" / "ntfy"
    ntfy.mkdir(parents=True)
    (ntfy / "telegram.ini").write_text("[telegram]\ntoken = 1:x\nchat_id = 5\n")
    done = run_cli("status", check=False)
    assert done.returncode == 0, done.stdout
    assert "ok   notifications go through ntfy backend(s): telegram" in done.stdout


def test_bad_ntfy_config_is_one_clear_status_line(home: Path) -> None:
    run_cli("install")
    ntfy = home / ".config" / "ntfy"
    ntfy.mkdir(parents=True)
    (ntfy / "ntfy.yml").write_text("backends: [telegram\n")
    line = [text for text in run_cli("status", check=False).stdout.splitlines() if "ntfy.yml" in text]
    assert len(line) == 1 and line[0].startswith("ERR  cannot read ntfy config") and "fix or remove it" in line[0]


def test_kernel_gets_the_magic_and_user_startup_still_runs(user_files: Path) -> None:
    run_cli("install")
    nb = run_notebook(["%autonotify --status", "print(sorted(get_ipython().magics_manager.magics['line'])[:0])"],
                      user_files)
    assert stream_text(nb.cells[0]).startswith("autonotify: on, one message per run of 1 min 00 s or more")


def test_broken_installation_warns_once_and_ipython_starts(user_files: Path) -> None:
    """The recorded package is gone (its venv was deleted): one line, later startup files run."""
    run_cli("install")
    record = user_files / ".ipython/profile_default/jupyter_helpers/installation.json"
    data = json.loads(record.read_text())
    record.write_text(json.dumps({**data, "package_dir": str(user_files / "deleted-venv/jupyter_helpers")}))
    done = subprocess.run(
        [sys.executable, "-m", "IPython", "-c", "print('cell ran')"],
        capture_output=True, text=True, timeout=60, cwd=user_files,
    )
    assert done.returncode == 0
    assert done.stderr.count("jupyter-helpers: autonotify is off in this kernel (FileNotFoundError") == 1
    assert "user startup ran" in done.stdout and "cell ran" in done.stdout
