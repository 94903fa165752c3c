"""`jupyter-helpers wsl` on a simulated WSL root, checked by a real Jupyter server opening the
(fake) Windows browser."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

from jupyter_helpers.installer.wsl import mount_root, windows_to_wsl, wsl_version

from conftest import BIN, cli, run_cli
from support.processes import free_port, killed_after
from support.snapshot import snapshot

WSL1 = "4.4.0-19041-Microsoft"
WSL2 = "5.15.153.1-microsoft-standard-WSL2"
FIREFOX = "Program Files/Mozilla Firefox/firefox.exe"
USER_CONFIG = '{\n  "ServerApp": {"iopub_data_rate_limit": 12345678}\n}\n'


@pytest.mark.parametrize(
    "release, env, interop, version",
    [
        (WSL1, {}, False, 1),
        (WSL2, {}, False, 2),
        ("5.10.102.1-microsoft-standard", {}, False, 2),
        ("6.1.0-13-amd64", {}, False, None),
        ("6.1.0-13-amd64", {"WSL_DISTRO_NAME": "Ubuntu"}, False, 2),
        ("6.1.0-13-amd64", {}, True, 2),
        ("", {}, False, None),
    ],
)
def test_wsl_detection(release: str, env: dict, interop: bool, version: int | None) -> None:
    assert wsl_version(release, env, interop) == version


def test_mount_root_and_windows_paths() -> None:
    assert mount_root(None) == "/mnt/"
    assert mount_root("[automount]\nroot = /win\n") == "/win/"
    assert mount_root("[automount]\nenabled = true\n") == "/mnt/"
    assert windows_to_wsl(r"C:\Program Files\Mozilla Firefox\firefox.exe", "/mnt/") == f"/mnt/c/{FIREFOX}"
    assert windows_to_wsl("/already/linux", "/mnt/") == "/already/linux"


def fake_root(base: Path, release: str, mount: str = "/mnt/", wsl_conf: str | None = None) -> Path:
    """A directory standing in for `/`, with a Windows Firefox that records its arguments."""
    root = base / "sysroot"
    (root / "proc/sys/kernel").mkdir(parents=True)
    (root / "proc/sys/kernel/osrelease").write_text(release + "\n")
    if wsl_conf:
        (root / "etc").mkdir()
        (root / "etc/wsl.conf").write_text(wsl_conf)
    firefox = root / mount.strip("/") / "c" / FIREFOX
    firefox.parent.mkdir(parents=True)
    log = base / "browser-argv.log"
    firefox.write_text(f"#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\" >> '{log}'; done\n")
    firefox.chmod(0o755)
    return root


@pytest.fixture
def wsl2(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = fake_root(tmp_path, WSL2)
    monkeypatch.setenv("JUPYTER_HELPERS_SYSROOT", str(root))
    (home / ".jupyter").mkdir()
    (home / ".jupyter" / "jupyter_server_config.json").write_text(USER_CONFIG)
    return root


def browser_argv_after_starting_jupyter(tmp_path: Path, *extra: str) -> list[str]:
    """Starts `jupyter notebook` (which opens a browser), waits for the fake browser's log."""
    log = tmp_path / "browser-argv.log"
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "jupyter"), "notebook", "--ip=127.0.0.1", f"--port={port}", "--allow-root", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not log.exists():
            time.sleep(0.1)
        time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert log.exists(), "Jupyter never opened the configured browser"
    return log.read_text().splitlines()


def test_jupyter_opens_the_windows_browser_on_the_http_url_and_undo_restores(
    wsl2: Path, home: Path, tmp_path: Path
) -> None:
    config = home / ".jupyter" / "jupyter_server_config.json"
    firefox = wsl2 / "mnt/c" / FIREFOX
    out = run_cli("wsl", "--browser", str(firefox)).stdout
    assert f"WSL 2 detected (kernel {WSL2})" in out
    assert f"found firefox: {firefox}" in out
    assert f"wrote: {config}" in out
    assert f"export BROWSER='{firefox}'" in out and "jupyter_server issue #1325" in out
    written = json.loads(config.read_text())
    assert written["ServerApp"] == {
        "iopub_data_rate_limit": 12345678,
        "browser": f'"{firefox}" %s',
        "use_redirect_file": False,
    }

    argv = browser_argv_after_starting_jupyter(tmp_path)
    assert len(argv) == 1 and argv[0].startswith("http://127.0.0.1:") and "?token=" in argv[0], argv

    status = run_cli("status", check=False).stdout
    assert f"ok   WSL 2: Jupyter opens {firefox} on the http URL" in status

    assert "restored: " + str(config) in run_cli("wsl", "--undo").stdout
    assert config.read_text() == USER_CONFIG  # byte for byte; the server wrote other files meanwhile
    assert not (home / ".jupyter" / "jupyter_helpers").exists()
    assert "nothing to undo" in run_cli("wsl", "--undo").stdout


def test_without_the_fix_the_browser_gets_an_unreadable_file_url(wsl2: Path, home: Path, tmp_path: Path) -> None:
    """Why `use_redirect_file = False` matters: Jupyter's default hands over a Linux file path."""
    firefox = wsl2 / "mnt/c" / FIREFOX
    argv = browser_argv_after_starting_jupyter(tmp_path, f'--ServerApp.browser="{firefox}" %s')
    assert argv[0].startswith("file:///"), argv


def test_wsl1_with_custom_mount_root_finds_the_browser_itself(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = fake_root(tmp_path, WSL1, mount="/win/", wsl_conf="[automount]\nroot = /win/\n")
    monkeypatch.setenv("JUPYTER_HELPERS_SYSROOT", str(root))
    out = cli("wsl", "--browser", "firefox").stdout
    assert "WSL 1 detected" in out
    config = json.loads((home / ".jupyter" / "jupyter_server_config.json").read_text())
    assert config["ServerApp"]["browser"] == f'"{root}/win/c/{FIREFOX}" %s'
    cli("wsl", "--undo")
    assert snapshot(home) == {}


def test_windows_style_path_is_understood(wsl2: Path, home: Path) -> None:
    cli("wsl", "--browser", "C:\\Program Files\\Mozilla Firefox\\firefox.exe")
    config = json.loads((home / ".jupyter" / "jupyter_server_config.json").read_text())
    assert config["ServerApp"]["browser"] == f'"{wsl2}/mnt/c/{FIREFOX}" %s'


def test_dry_run_writes_nothing(wsl2: Path, home: Path) -> None:
    before = snapshot(home)
    out = cli("wsl", "--dry-run").stdout
    assert "would write: " in out and "ServerApp.use_redirect_file = false" in out
    assert snapshot(home) == before


def test_not_wsl_exits_1_unless_forced(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = fake_root(tmp_path, "6.1.0-13-amd64")
    monkeypatch.setenv("JUPYTER_HELPERS_SYSROOT", str(root))
    done = cli("wsl", check=False)
    assert done.returncode == 1 and done.stderr == (
        "jupyter-helpers: error: WSL not detected (kernel release '6.1.0-13-amd64'); use --force to configure anyway\n"
    )
    assert snapshot(home) == {}
    assert "wrote: " in cli("wsl", "--force").stdout


@pytest.mark.parametrize(
    "browser, message",
    [
        ("/mnt/c/nope/browser.exe", "browser '/mnt/c/nope/browser.exe' not found"),
        ("edge", "edge is not installed at the usual places"),
    ],
)
def test_bad_browser_is_one_line_and_writes_nothing(wsl2: Path, home: Path, browser: str, message: str) -> None:
    before = snapshot(home)
    done = cli("wsl", "--browser", browser, check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and message in done.stderr
    assert snapshot(home) == before


def test_browser_path_with_colon_is_refused(wsl2: Path, home: Path, tmp_path: Path) -> None:
    odd = tmp_path / "odd:dir" / "firefox.exe"
    odd.parent.mkdir()
    odd.write_text("#!/bin/sh\n")
    before = snapshot(home)
    done = cli("wsl", "--browser", str(odd), check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "contains ':'" in done.stderr
    assert snapshot(home) == before


def test_unwritable_config_dir_is_one_line(wsl2: Path, home: Path) -> None:
    before = snapshot(home)
    (home / ".jupyter").chmod(0o555)
    try:
        done = cli("wsl", check=False)
    finally:
        (home / ".jupyter").chmod(0o755)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "not a writable directory" in done.stderr
    assert snapshot(home) == before


# -- undo takes back only our keys --------------------------------------------------------------


def set_password(home: Path) -> None:
    """What `jupyter server password` does: jupyter_server's own set_password into the config."""
    subprocess.run(
        [str(BIN / "python"), "-c", "from jupyter_server.auth.security import set_password; set_password('s3cret')"],
        check=True,
        capture_output=True,
        timeout=60,
    )


def test_undo_keeps_a_password_set_after_wsl_when_there_was_no_config(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTER_HELPERS_SYSROOT", str(fake_root(tmp_path, WSL2)))
    config = home / ".jupyter" / "jupyter_server_config.json"
    run_cli("wsl")
    set_password(home)
    hashed = json.loads(config.read_text())["IdentityProvider"]["hashed_password"]
    out = run_cli("wsl", "--undo").stdout
    assert json.loads(config.read_text()) == {"IdentityProvider": {"hashed_password": hashed}}
    assert f"undid ServerApp.browser, ServerApp.use_redirect_file in {config}" in out
    assert not (home / ".jupyter" / "jupyter_helpers").exists()


def test_undo_keeps_every_later_edit_and_reports_a_key_the_user_changed(wsl2: Path, home: Path) -> None:
    config = home / ".jupyter" / "jupyter_server_config.json"
    cli("wsl")
    edited = json.loads(config.read_text())
    edited["ServerApp"]["port"] = 8899
    edited["ServerApp"]["browser"] = "my-own-browser %s"
    edited["NotebookApp"] = {"nbserver_extensions": {}}
    config.write_text(json.dumps(edited))
    out = cli("wsl", "--undo").stdout.splitlines()
    assert json.loads(config.read_text()) == {
        "ServerApp": {"iopub_data_rate_limit": 12345678, "port": 8899, "browser": "my-own-browser %s"},
        "NotebookApp": {"nbserver_extensions": {}},
    }
    assert out == [
        f"undid ServerApp.use_redirect_file in {config} (everything else in it stays as it is)",
        "left as you changed them since: ServerApp.browser",
    ]


def test_undo_restores_a_previous_value_of_our_key(wsl2: Path, home: Path) -> None:
    config = home / ".jupyter" / "jupyter_server_config.json"
    config.write_text('{"ServerApp": {"use_redirect_file": true, "browser": "old %s"}}')
    config.chmod(0o600)
    cli("wsl")
    written = json.loads(config.read_text())
    config.write_text(json.dumps({**written, "Other": {"x": 1}}))
    cli("wsl", "--undo")
    assert json.loads(config.read_text()) == {
        "ServerApp": {"use_redirect_file": True, "browser": "old %s"},
        "Other": {"x": 1},
    }
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def test_a_symlinked_config_stays_a_link_and_undo_is_exact(wsl2: Path, home: Path) -> None:
    config = home / ".jupyter" / "jupyter_server_config.json"
    dotfiles = home / "dotfiles"
    dotfiles.mkdir()
    (dotfiles / "jupyter.json").write_text(USER_CONFIG)
    config.unlink()
    config.symlink_to(dotfiles / "jupyter.json")
    before = snapshot(home)
    cli("wsl")
    assert config.is_symlink()
    assert json.loads((dotfiles / "jupyter.json").read_text())["ServerApp"]["use_redirect_file"] is False
    cli("wsl", "--undo")
    assert snapshot(home) == before


def test_wsl_backup_keeps_the_config_private(wsl2: Path, home: Path) -> None:
    config = home / ".jupyter" / "jupyter_server_config.json"
    config.chmod(0o600)
    cli("wsl")
    backups = home / ".jupyter" / "jupyter_helpers" / "wsl" / "backups"
    assert stat.S_IMODE(backups.stat().st_mode) == 0o700
    assert [stat.S_IMODE(p.stat().st_mode) for p in backups.iterdir()] == [0o600]
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def test_non_utf8_config_is_one_line(wsl2: Path, home: Path) -> None:
    (home / ".jupyter" / "jupyter_server_config.json").write_bytes(b'{"ServerApp": {"x": "\xff"}}')
    done = cli("wsl", check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "cannot read" in done.stderr


def test_a_second_wsl_run_after_edits_never_brings_back_old_bytes(wsl2: Path, home: Path) -> None:
    """wsl, a password, wsl again (another browser), undo: the password must survive."""
    config = home / ".jupyter" / "jupyter_server_config.json"
    run_cli("wsl")
    set_password(home)
    run_cli("wsl", "--browser", "C:\\Program Files\\Mozilla Firefox\\firefox.exe")
    hashed = json.loads(config.read_text())["IdentityProvider"]["hashed_password"]
    run_cli("wsl", "--undo")
    assert json.loads(config.read_text()) == {
        "ServerApp": {"iopub_data_rate_limit": 12345678},
        "IdentityProvider": {"hashed_password": hashed},
    }


def test_a_key_the_user_changed_between_runs_is_theirs_again(wsl2: Path, home: Path) -> None:
    config = home / ".jupyter" / "jupyter_server_config.json"
    cli("wsl")
    edited = json.loads(config.read_text())
    edited["ServerApp"]["use_redirect_file"] = True
    config.write_text(json.dumps(edited))
    cli("wsl")
    cli("wsl", "--undo")
    assert json.loads(config.read_text())["ServerApp"] == {"iopub_data_rate_limit": 12345678, "use_redirect_file": True}


@pytest.mark.parametrize("server_app", ["5", "[]", '"text"', "null"])
def test_a_server_app_that_is_not_an_object_is_one_line(wsl2: Path, home: Path, server_app: str) -> None:
    config = home / ".jupyter" / "jupyter_server_config.json"
    config.write_text(f'{{"ServerApp": {server_app}}}\n')
    before = snapshot(home)
    for args in (["wsl"], ["wsl", "--dry-run"]):
        done = cli(*args, check=False)
        assert "Traceback" not in done.stderr
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
        assert "ServerApp" in done.stderr and "fix it first" in done.stderr
    assert snapshot(home) == before


@pytest.mark.reliability
@pytest.mark.parametrize("command", [["wsl"], ["wsl", "--undo"]])
def test_a_kill_at_every_step_then_wsl_and_undo_give_back_the_exact_bytes(
    wsl2: Path, home: Path, command: list[str]
) -> None:
    """Killed after step 1, 2, ... of `wsl` (or of its undo), the user changed nothing: another
    `wsl` and `wsl --undo` must leave the Jupyter folder exactly as it was, no temp file of ours."""
    config = home / ".jupyter" / "jupyter_server_config.json"
    original = config.read_bytes()
    for step in range(1, 100):
        shutil.rmtree(home / ".jupyter")
        config.parent.mkdir()
        config.write_bytes(original)
        before = snapshot(home)
        if command == ["wsl", "--undo"]:
            cli("wsl")
        if not killed_after(step, *command):
            break
        cli("wsl")
        cli("wsl", "--undo")
        assert snapshot(home) == before, f"killed after step {step}"
    assert step > 3, "the command never ran to the end"


@pytest.mark.parametrize(
    "order", [["wsl", "install", "wsl --undo", "uninstall"], ["install", "wsl", "uninstall", "wsl --undo"]]
)
def test_wsl_and_install_together_leave_no_folder_behind(
    tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch, order: list[str]
) -> None:
    """No Jupyter folder before: whichever of `wsl` and `install` made it, the last to leave removes it."""
    monkeypatch.setenv("JUPYTER_HELPERS_SYSROOT", str(fake_root(tmp_path, WSL2)))
    for command in order:
        cli(*command.split())
    assert snapshot(home) == {}


def test_status_on_wsl_says_what_is_missing_until_wsl_ran(wsl2: Path, home: Path) -> None:
    config = home / ".jupyter" / "jupyter_server_config.json"
    before = run_cli("status", check=False).stdout.splitlines()
    assert "ERR  WSL 2: no Windows browser configured (run `jupyter-helpers wsl`)" in before
    run_cli("wsl")
    written = json.loads(config.read_text())
    written["ServerApp"]["use_redirect_file"] = True  # someone turned it back on
    config.write_text(json.dumps(written))
    assert "ERR  WSL 2: redirect file still on (run `jupyter-helpers wsl`)" in run_cli("status", check=False).stdout


def test_a_browser_command_with_an_unclosed_quote_is_one_status_line(wsl2: Path, home: Path) -> None:
    """A hand-edited ServerApp.browser that shlex cannot split gave status a traceback (review)."""
    config = home / ".jupyter" / "jupyter_server_config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        json.dumps({"ServerApp": {"browser": "'/mnt/c/Program Files/fx.exe %s", "use_redirect_file": False}})
    )
    done = run_cli("status", check=False)
    assert "Traceback" not in done.stderr, done.stderr
    assert (
        f"ERR  WSL 2: ServerApp.browser in {config} is not a command line (No closing quotation); fix its "
        "quotes or run `jupyter-helpers wsl`"
    ) in done.stdout.splitlines(), done.stdout
