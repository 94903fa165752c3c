"""Concurrency, repeated: parallel commands over the user's own files must never lose a byte.

Marked `reliability` (run alone: `pytest -m reliability`); each test repeats its case many
times because a race that shows up once in ten runs is still a lost file for someone.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN, cli, run_cli
from support.processes import killed_after
from support.snapshot import snapshot

TRIALS = 20
PARALLEL_INSTALLS = 10
PARALLEL_ADDS = 20
USER_STARTUP = "# the user's own startup file, which happens to share our name\nsecret = 'hunter2'\n"
USER_EXTENSION = '{"ServerApp": {"jpserver_extensions": {"jupyter_helpers": true, "my_ext": true}}}\n'


def run_parallel(argvs: list[list[str]]) -> list[subprocess.CompletedProcess]:
    """Starts every command before waiting for any, so they really overlap."""
    started = [
        subprocess.Popen(
            [str(BIN / "jupyter-helpers"), *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for argv in argvs
    ]
    done = []
    for argv, process in zip(argvs, started, strict=True):
        out, err = process.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(argv, process.returncode, out, err))
    return done


def user_originals(home: Path, with_profile: bool) -> None:
    """The user's own files at the paths install writes (the startup file only `with_profile`,
    so other trials also race to create the whole IPython tree)."""
    if with_profile:
        startup = home / ".ipython/profile_default/startup/00-jupyter-helpers.py"
        startup.parent.mkdir(parents=True, exist_ok=True)
        startup.write_text(USER_STARTUP)
        startup.chmod(0o600)
    extension = home / ".jupyter/jupyter_server_config.d/jupyter_helpers.json"
    extension.parent.mkdir(parents=True, exist_ok=True)
    extension.write_text(USER_EXTENSION)


def parallel_installs_keep_originals(home: Path, installs: int, with_profile: bool = True) -> None:
    user_originals(home, with_profile)
    before = snapshot(home)
    results = run_parallel([["install"] for _ in range(installs)])
    assert [r.returncode for r in results] == [0] * installs, [r.stderr for r in results if r.returncode]
    replaced = [line for r in results for line in r.stdout.splitlines() if line.startswith("replaced (backup kept)")]
    assert len(replaced) == (2 if with_profile else 1), replaced  # each original backed up once
    done = cli("uninstall")
    assert "Traceback" not in done.stderr
    assert snapshot(home) == before, done.stdout  # originals back, every created folder gone


def test_ten_parallel_installs_keep_the_users_originals(home: Path) -> None:
    """One trial outside the reliability mark, so the everyday suite meets a race too."""
    parallel_installs_keep_originals(home, installs=10)


@pytest.mark.reliability
def test_parallel_installs_over_user_originals_never_lose_them(home: Path) -> None:
    for trial in range(TRIALS):
        if trial % 2:  # odd trials: no IPython folder yet, so the parallel installs create it
            shutil.rmtree(home / ".ipython", ignore_errors=True)
        parallel_installs_keep_originals(home, PARALLEL_INSTALLS, with_profile=trial % 2 == 0)


@pytest.mark.reliability
def test_parallel_projects_add_keeps_every_entry(home: Path, tmp_path: Path) -> None:
    map_file = home / ".jupyter" / "jupyter_helpers_projects.json"
    map_file.parent.mkdir()
    for trial in range(5):
        map_file.write_text(json.dumps({"folders": {}, "note": "kept by every edit"}))
        folders = [tmp_path / f"t{trial}" / f"p{n}" for n in range(PARALLEL_ADDS)]
        results = run_parallel([["projects", "add", str(folder), f"Project {n}"] for n, folder in enumerate(folders)])
        assert [r.returncode for r in results] == [0] * PARALLEL_ADDS, [r.stderr for r in results if r.returncode]
        saved = json.loads(map_file.read_text())
        assert saved["folders"] == {str(folder): f"Project {n}" for n, folder in enumerate(folders)}
        assert saved["note"] == "kept by every edit"
        assert sorted(p.name for p in map_file.parent.iterdir()) == ["jupyter_helpers_projects.json"]


@pytest.mark.reliability
def test_an_install_killed_midway_loses_nothing(home: Path) -> None:
    """SIGKILL at a different moment each trial; then install and uninstall must still work and
    give back the user's originals byte for byte, with nothing of ours left behind."""
    user_originals(home, with_profile=True)
    before = snapshot(home)
    state = home / ".ipython/profile_default/jupyter_helpers"
    started = time.monotonic()
    run_cli("install")
    duration = time.monotonic() - started
    run_cli("uninstall")
    midway = 0
    for trial in range(TRIALS):
        process = subprocess.Popen(
            [str(BIN / "jupyter-helpers"), "install"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:  # the kill moment moves through the second half of a run (the first is Python starting)
            process.wait(timeout=duration * (0.5 + 0.6 * trial / TRIALS))
        except subprocess.TimeoutExpired:
            process.kill()
        process.wait(timeout=60)
        midway += process.returncode != 0 and state.exists()
        cli("install")
        cli("uninstall")
        assert snapshot(home) == before, f"trial {trial}"
    print(f"killed after the install had begun writing in {midway} of {TRIALS} trials")


@pytest.mark.reliability
def test_install_racing_uninstall_leaves_one_of_the_two_outcomes(home: Path) -> None:
    """`uninstall` and `install` at once: both succeed, the home ends either installed (all
    three files) or not at all, and a last uninstall leaves no folder behind."""
    startup = home / ".ipython/profile_default/startup/00-jupyter-helpers.py"
    extension = home / ".jupyter/jupyter_server_config.d/jupyter_helpers.json"
    for trial in range(TRIALS):
        cli("install")
        results = run_parallel([["uninstall"], ["install"]])
        assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
        assert startup.exists() == extension.exists(), f"trial {trial}"
        cli("uninstall")
        assert snapshot(home) == {}, f"trial {trial}"


# Folders a kill can still leave empty: the ones holding a change set's lock file, made before
# the record that would name them can exist.
LOCK_PATH_FOLDERS = {".ipython", ".ipython/profile_default", ".jupyter"}


@pytest.mark.reliability
@pytest.mark.parametrize("command", ["install", "uninstall"])
def test_a_kill_at_every_step_leaves_no_file_and_no_target_folder(home: Path, command: str) -> None:
    """A fresh home; the command is killed after step 1, 2, 3, ... until it runs to the end.
    After each kill, install + uninstall work and leave nothing of ours but (at worst) the empty
    folders that held a lock."""
    for step in range(1, 200):
        for path in list(home.iterdir()):
            shutil.rmtree(path)
        if command == "uninstall":
            cli("install")
        if not killed_after(step, command):
            break
        for then in ("install", "uninstall"):
            done = cli(then)
            assert "Traceback" not in done.stderr, (step, done.stderr)
        leftovers = {path for path, kind in snapshot(home).items() if kind == "dir"}
        assert set(snapshot(home)) == leftovers <= LOCK_PATH_FOLDERS, f"killed after step {step}: {leftovers}"
    assert step > 10, "the command never ran to the end"
