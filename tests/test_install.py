"""`jupyter-helpers install / uninstall / status` through the real command line."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BIN, cli, run_cli
from support.fake_telegram import write_credentials
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
    first = cli("install")
    assert "wrote: " + str(user_files / ".ipython/profile_default/startup/00-jupyter-helpers.py") in first.stdout
    assert "wrote: " + str(user_files / ".jupyter/jupyter_server_config.d/jupyter_helpers.json") in first.stdout
    installed = snapshot(user_files)

    second = cli("install")
    assert "wrote" not in second.stdout and second.stdout.count("unchanged: ") == 3
    assert snapshot(user_files) == installed

    cli("uninstall")
    assert snapshot(user_files) == before
    assert "nothing to do" in cli("uninstall").stdout


def test_dry_run_writes_nothing(home: Path) -> None:
    out = cli("install", "--dry-run").stdout
    assert out.count("would create: ") == 3
    assert snapshot(home) == {}


def test_other_profile_is_created_and_removed_again(home: Path) -> None:
    cli("install", "--profile", "work")
    assert (home / ".ipython/profile_work/startup/00-jupyter-helpers.py").is_file()
    cli("uninstall", "--profile", "work")
    assert snapshot(home) == {}


def test_a_changed_file_of_ours_is_backed_up_and_restored(home: Path) -> None:
    startup = home / ".ipython/profile_default/startup"
    startup.mkdir(parents=True)
    (startup / "00-jupyter-helpers.py").write_text("# the user's own file that happens to share our name\n")
    before = snapshot(home)
    out = cli("install").stdout
    assert "replaced (backup kept): " + str(startup / "00-jupyter-helpers.py") in out
    cli("uninstall")
    assert snapshot(home) == before


def test_read_only_profile_gives_one_line_and_exit_2(home: Path) -> None:
    profile = home / ".ipython" / "profile_default"
    profile.mkdir(parents=True)
    before = snapshot(home)
    profile.chmod(0o555)
    try:
        done = cli("install", check=False)
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
    done = cli("install", check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert f"{home / '.jupyter'} is not a writable directory" in done.stderr
    assert snapshot(home) == before


def test_a_failed_write_midway_rolls_back(home: Path) -> None:
    """A directory sits where the extension file goes: the profile files are written first, then
    that write fails, and everything already written is taken back."""
    (home / ".jupyter" / "jupyter_server_config.d" / "jupyter_helpers.json").mkdir(parents=True)
    before = snapshot(home)
    done = cli("install", check=False)
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
    write_credentials(home, "1:x", 5)
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
    nb = run_notebook(
        ["%autonotify --status", "print(sorted(get_ipython().magics_manager.magics['line'])[:0])"], user_files
    )
    assert stream_text(nb.cells[0]).startswith("autonotify: on, one message per run of 1 min 00 s or more")


def test_broken_installation_warns_once_and_ipython_starts(user_files: Path) -> None:
    """The recorded package is gone (its venv was deleted): one line, later startup files run."""
    run_cli("install")
    record = user_files / ".ipython/profile_default/jupyter_helpers/installation.json"
    data = json.loads(record.read_text())
    record.write_text(json.dumps({**data, "package_dir": str(user_files / "deleted-venv/jupyter_helpers")}))
    done = subprocess.run(
        [sys.executable, "-m", "IPython", "-c", "print('cell ran')"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=user_files,
    )
    assert done.returncode == 0
    assert done.stderr.count("jupyter-helpers: autonotify is off in this kernel (FileNotFoundError") == 1
    assert "user startup ran" in done.stdout and "cell ran" in done.stdout


# -- Trust: files the user edited are theirs, backups keep modes, recovery without a record -----

STARTUP = Path(".ipython/profile_default/startup/00-jupyter-helpers.py")
STATE = Path(".ipython/profile_default/jupyter_helpers")
EXTENSION = Path(".jupyter/jupyter_server_config.d/jupyter_helpers.json")


def no_traceback(done: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in done.stderr + done.stdout, done.stderr


def test_uninstall_keeps_a_file_the_user_edited_after_install(home: Path) -> None:
    cli("install")
    (home / STARTUP).write_text((home / STARTUP).read_text() + "print('my addition')\n")
    edited = (home / STARTUP).read_bytes()
    done = cli("uninstall")
    assert (home / STARTUP).read_bytes() == edited
    kept = [line for line in done.stdout.splitlines() if str(home / STARTUP) in line]
    assert kept == [f"kept: {home / STARTUP} (you edited it since install, so it is yours)"]
    assert not (home / EXTENSION).exists() and not (home / STATE).exists()


def test_reinstall_after_an_edit_keeps_the_edit_and_claims_no_backup(home: Path) -> None:
    cli("install")
    (home / STARTUP).write_text("# mine now\n")
    out = cli("install").stdout
    assert "replaced (backup kept)" not in out
    assert f"kept: {home / STARTUP} (you edited it since install" in out
    assert (home / STARTUP).read_text() == "# mine now\n"
    cli("uninstall")
    assert (home / STARTUP).read_text() == "# mine now\n"


def test_an_edit_over_a_backed_up_original_keeps_both(home: Path) -> None:
    (home / STARTUP).parent.mkdir(parents=True)
    (home / STARTUP).write_text("# the user's original\n")
    cli("install")
    (home / STARTUP).write_text("# edited after install\n")
    out = cli("uninstall").stdout
    aside = home / STARTUP.with_name(STARTUP.name + ".before-jupyter-helpers")
    assert (home / STARTUP).read_text() == "# edited after install\n"
    assert aside.read_text() == "# the user's original\n"
    assert f"your file from before install is at {aside}" in out
    assert not (home / STATE).exists()


def test_backups_keep_the_original_mode_in_a_private_folder(home: Path) -> None:
    (home / STARTUP).parent.mkdir(parents=True)
    (home / STARTUP).write_text("secret = 'hunter2'\n")
    (home / STARTUP).chmod(0o600)
    cli("install")
    backups = home / STATE / "backups"
    assert stat.S_IMODE(backups.stat().st_mode) == 0o700
    [backup] = [p for p in backups.iterdir() if not p.name.endswith(".origin")]
    assert backup.read_text() == "secret = 'hunter2'\n" and stat.S_IMODE(backup.stat().st_mode) == 0o600
    cli("uninstall")
    assert stat.S_IMODE((home / STARTUP).stat().st_mode) == 0o600
    assert (home / STARTUP).read_text() == "secret = 'hunter2'\n"


def test_a_deleted_backup_is_reported_and_uninstall_finishes(home: Path) -> None:
    (home / STARTUP).parent.mkdir(parents=True)
    (home / STARTUP).write_text("# original\n")
    cli("install")
    shutil.rmtree(home / STATE / "backups")
    done = cli("uninstall", check=False)
    no_traceback(done)
    assert done.returncode == 0
    assert f"not restored: {home / STARTUP} (its backup" in done.stdout
    assert not (home / STARTUP).exists() and not (home / EXTENSION).exists()
    assert "nothing to do" in cli("uninstall").stdout


@pytest.mark.parametrize("damage", ["corrupt", "deleted"])
def test_a_damaged_manifest_still_restores_originals_and_removes_our_files(home: Path, damage: str) -> None:
    (home / STARTUP).parent.mkdir(parents=True)
    (home / STARTUP).write_text("# original\n")
    before = snapshot(home)
    cli("install")
    manifest = home / STATE / "changes.json"
    if damage == "corrupt":
        manifest.write_text('{"files": [')
    else:
        manifest.unlink()
    done = cli("uninstall", check=False)
    no_traceback(done)
    assert done.returncode == 0, done.stderr
    assert f"restored: {home / STARTUP}" in done.stdout
    assert (home / STARTUP).read_text() == "# original\n"
    assert not (home / EXTENSION).exists()
    assert not (home / STATE / "backups").exists()
    leftovers = set(snapshot(home)) - set(before)
    assert leftovers <= {".jupyter", ".jupyter/jupyter_server_config.d"}, leftovers


def chattr(flag: str, path: Path) -> bool:
    return subprocess.run(["chattr", flag, str(path)], capture_output=True, check=False).returncode == 0


@pytest.mark.parametrize("which", [STARTUP, EXTENSION])
def test_an_immutable_file_gives_one_line_on_install_and_uninstall(home: Path, which: Path) -> None:
    """The user's own file at one of our paths cannot be replaced (chattr +i). For the extension
    file, the startup file was already written when that fails, and is taken back."""
    target = home / which
    target.parent.mkdir(parents=True)
    target.write_text("# original\n")
    if not chattr("+i", target):
        pytest.skip("chattr +i is not permitted here")
    try:
        before = snapshot(home)
        done = run_cli("install", check=False)
        no_traceback(done)
        assert done.returncode == 2 and done.stderr.count("\n") == 1
        assert done.stderr.startswith(f"jupyter-helpers: error: could not write {target}: Operation not permitted")
        assert done.stderr.endswith("nothing was changed\n")
        assert snapshot(home) == before
    finally:
        chattr("-i", target)
    run_cli("install")
    assert chattr("+i", target)
    try:
        done = run_cli("uninstall", check=False)
        no_traceback(done)
        assert done.returncode == 1
        assert f"could not restore: {target} (" in done.stdout and "run uninstall again" in done.stdout
    finally:
        chattr("-i", target)
    run_cli("uninstall")
    assert snapshot(home) == before


def test_a_symlinked_startup_file_stays_a_link(home: Path) -> None:
    dotfiles = home / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "startup.py").write_text("# from my dotfiles\n")
    (home / STARTUP).parent.mkdir(parents=True)
    (home / STARTUP).symlink_to(dotfiles / "startup.py")
    cli("install")
    assert (home / STARTUP).is_symlink()
    assert (dotfiles / "startup.py").read_bytes() == (Path(__file__).parents[1] / "startup" / STARTUP.name).read_bytes()
    cli("uninstall")
    assert (home / STARTUP).is_symlink() and (dotfiles / "startup.py").read_text() == "# from my dotfiles\n"


def test_a_dangling_symlink_is_refused_in_one_line(home: Path) -> None:
    (home / STARTUP).parent.mkdir(parents=True)
    (home / STARTUP).symlink_to(home / "nowhere.py")
    before = snapshot(home)
    done = cli("install", check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "is a symlink to" in done.stderr
    assert snapshot(home) == before and (home / STARTUP).is_symlink()


@pytest.mark.parametrize("name", ["../evil", "a/b", "", "/tmp/jh-absolute-profile", ".", "x\ny"])
@pytest.mark.parametrize("command", ["install", "uninstall", "status"])
def test_profile_names_ipython_cannot_use_are_refused(home: Path, name: str, command: str) -> None:
    done = cli(command, "--profile", name, check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"jupyter-helpers: error: invalid profile name {name!r}")
    assert snapshot(home) == {} and not Path("/tmp/jh-absolute-profile").exists()


def test_uninstalling_one_profile_keeps_the_extension_another_needs(home: Path) -> None:
    cli("install")
    cli("install", "--profile", "work")
    out = cli("uninstall", "--profile", "work").stdout
    assert f"kept: {home / EXTENSION} (still used by {home / '.ipython/profile_default'})" in out
    assert json.loads((home / EXTENSION).read_text())["ServerApp"]["jpserver_extensions"] == {"jupyter_helpers": True}
    assert not (home / ".ipython/profile_work").exists()
    cli("uninstall")
    assert snapshot(home) == {}


def test_a_symlink_loop_at_our_path_is_one_line(home: Path) -> None:
    (home / STARTUP).parent.mkdir(parents=True)
    (home / STARTUP).symlink_to(STARTUP.name)  # points at itself
    before = snapshot(home)
    for command in ("install", "uninstall"):
        done = cli(command, check=False)
        no_traceback(done)
        assert done.returncode in (0, 2) and done.stderr.count("\n") <= 1, done.stderr
    done = cli("install", check=False)
    assert done.returncode == 2 and "symlink" in done.stderr
    assert snapshot(home) == before


@pytest.mark.parametrize("command", ["install", "uninstall", "status"])
def test_a_profile_name_too_long_for_a_folder_is_refused(home: Path, command: str) -> None:
    done = cli(command, "--profile", "a" * 300, check=False)
    no_traceback(done)
    assert done.returncode == 2 and done.stderr.startswith("jupyter-helpers: error: invalid profile name")
    assert snapshot(home) == {}


@pytest.mark.parametrize(
    "damage",
    [
        '{"files": [], "dirs": 5}',
        '{"files": [], "users": "x"}',
        '{"files": [{"path": "/x", "backup": 7}]}',
        '{"files": [{"path": "/x", "sha256": [1]}]}',
    ],
)
def test_a_manifest_with_wrong_types_is_damaged_not_a_traceback(home: Path, damage: str) -> None:
    cli("install")
    (home / STATE / "changes.json").write_text(damage)
    done = cli("install", check=False)
    no_traceback(done)
    assert done.returncode == 2 and "is damaged" in done.stderr and done.stderr.count("\n") == 1
    done = cli("uninstall", check=False)
    no_traceback(done)
    assert done.returncode == 0 and f"removed: {home / STARTUP}" in done.stdout
    assert not (home / STARTUP).exists() and not (home / EXTENSION).exists()


def test_folders_made_for_one_profile_go_when_the_last_profile_leaves(home: Path) -> None:
    """`.ipython` is made by the first install; uninstalling that profile first must not strand it."""
    cli("install")
    cli("install", "--profile", "work")
    cli("uninstall")
    cli("uninstall", "--profile", "work")
    assert snapshot(home) == {}


def test_uninstall_says_what_stays_and_how_to_remove_it(home: Path) -> None:
    """The user's own setup outlives an uninstall; the last lines say what it is and where."""
    ini = home / ".config" / "ntfy" / "telegram.ini"
    ini.parent.mkdir(parents=True)
    ini.write_text("[telegram]\ntoken = x\nchat_id = 1\n")
    cli("install")
    cli("projects", "add", str(home), "Home")
    lines = cli("uninstall").stdout.splitlines()
    assert lines[-3:] == [
        f"stays: {ini} (your bot token and chat id; delete it to remove them)",
        f"stays: {home / '.jupyter/jupyter_helpers_projects.json'} (your project map, which window titles and "
        "time tracking use)",
        f"stays: the jupyter-helpers package in {BIN.parent}, which keeps window titles on in Jupyter servers "
        "started from there (`pip uninstall jupyter-helpers` removes both)",
    ]
    assert ini.exists()
