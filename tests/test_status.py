"""`jupyter-helpers status` tells the truth: each case as a user produces it, through the real CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BIN, cli, run_cli
from support.fake_telegram import write_credentials

EXTENSION = Path(".jupyter/jupyter_server_config.d/jupyter_helpers.json")


@pytest.fixture
def installed(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Installed, with this environment's `jupyter` first on PATH (as after activating it) and
    Telegram credentials in place, so every check is green to begin with (the first test shows it;
    the others check their whole list of errors, so a red start would fail them too)."""
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    cli("install")  # (status stays a process: it caches its delivery probe per process)
    write_credentials(home, "1:x", 5)
    return home


def status_lines(*args: str) -> tuple[int, list[str]]:
    done = run_cli("status", *args, check=False)
    assert "Traceback" not in done.stderr + done.stdout and done.stderr == "", done.stderr
    return done.returncode, done.stdout.splitlines()


def errors(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("ERR")]


def test_a_fresh_install_with_telegram_set_up_is_all_green(installed: Path) -> None:
    code, lines = status_lines()
    assert code == 0 and lines and all(line.startswith("ok   ") for line in lines), lines


@pytest.mark.parametrize(
    "config_file, text",
    [
        ("ipython_kernel_config.py", "c.AutoNotify.enabled = False\n"),
        ("ipython_config.py", "c = get_config()\nc.AutoNotify.enabled = False\n"),
        ("ipython_config.json", '{"AutoNotify": {"enabled": false}}'),
    ],
)
def test_notifications_off_on_purpose_without_telegram_is_not_an_error(
    installed: Path, config_file: str, text: str
) -> None:
    (installed / ".config/ntfy/telegram.ini").unlink()
    path = installed / ".ipython/profile_default" / config_file
    path.write_text(text)
    code, lines = status_lines()
    assert code == 0, lines
    [line] = [line for line in lines if "notifications off" in line]
    assert line.startswith(f"ok   notifications off on purpose (c.AutoNotify.enabled = False in {path})")
    assert "Telegram credentials missing" in line


def test_a_deleted_sender_environment_is_named(installed: Path) -> None:
    record = installed / ".ipython/profile_default/jupyter_helpers/installation.json"
    gone = installed / "old-venv/bin/python"
    record.write_text(json.dumps({**json.loads(record.read_text()), "python": str(gone)}))
    code, lines = status_lines()
    assert code == 1
    assert errors(lines) == [
        f"ERR  the environment of the sender Python {gone} is gone; run "
        "`jupyter-helpers install` again from the environment that has jupyter-helpers"
    ]


def test_extension_disabled_by_the_users_server_config_is_an_error(installed: Path) -> None:
    config = installed / ".jupyter" / "jupyter_server_config.json"
    config.write_text('{"ServerApp": {"jpserver_extensions": {"jupyter_helpers": false}}}')
    code, lines = status_lines()
    assert code == 1
    assert errors(lines) == [
        f"ERR  window-title server extension is disabled by ServerApp.jpserver_extensions "
        f"in {config} (remove jupyter_helpers there or set it to true)"
    ]


def test_jupyter_on_path_that_cannot_import_us_is_an_error(
    installed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another environment's `jupyter` first on PATH: its server would log a traceback."""
    other = tmp_path / "other-env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(other)], check=True, timeout=120)
    jupyter = other / "bin" / "jupyter"
    jupyter.write_text(f"#!{other / 'bin' / 'python'}\nimport sys\nsys.exit(0)\n")
    jupyter.chmod(0o755)
    monkeypatch.setenv("PATH", f"{other / 'bin'}{os.pathsep}{os.environ['PATH']}")
    code, lines = status_lines()
    assert code == 1
    [line] = errors(lines)
    assert line.startswith(
        f"ERR  the `jupyter` on PATH ({jupyter}) runs {other / 'bin' / 'python'}, which cannot import jupyter_helpers"
    )


@pytest.mark.parametrize(
    "ntfy_yml, expected",
    [
        ("backends: [nosuchbackend]\n", "ERR  unknown ntfy backend 'nosuchbackend' in "),
        ("backends: [pushover]\n", "ERR  ntfy backend 'pushover' needs user_key: add them under `pushover:` in "),
        ("backends: [pushover]\npushover: {api_token: abc}\n", "ERR  ntfy backend 'pushover' needs user_key"),
        (b"backends: [telegram]\n# \xff\n", "ERR  cannot read ntfy config "),
        ("backends: " + "[" * 100000 + "]" * 100000 + "\n", "ERR  cannot read ntfy config "),
    ],
)
def test_channel_problems_are_one_line_each(installed: Path, ntfy_yml: str | bytes, expected: str) -> None:
    path = installed / ".config/ntfy/ntfy.yml"
    path.write_bytes(ntfy_yml if isinstance(ntfy_yml, bytes) else ntfy_yml.encode())
    code, lines = status_lines()
    assert code == 1
    [line] = errors(lines)
    assert line.startswith(expected), line


def test_pushover_with_its_key_is_green(installed: Path) -> None:
    (installed / ".config/ntfy/ntfy.yml").write_text("backends: [pushover]\npushover: {user_key: u123}\n")
    code, lines = status_lines()
    assert code == 0 and "ok   notifications go through ntfy backend(s): pushover" in lines


def test_non_utf8_telegram_ini_is_one_line(installed: Path) -> None:
    ini = installed / ".config/ntfy/telegram.ini"
    ini.write_bytes(b"[telegram]\ntoken = 1:x\nchat_id = 5\n# caf\xe9\n")
    code, lines = status_lines()
    assert code == 1
    assert errors(lines) == [f"ERR  cannot parse {ini} (not UTF-8 text: byte 40); fix or remove it"]


def test_a_fifo_at_telegram_ini_is_one_line_not_a_hang(installed: Path) -> None:
    """A secrets tool's named pipe at telegram.ini: reading it waited forever (hostile round)."""
    ini = installed / ".config/ntfy/telegram.ini"
    ini.unlink()
    os.mkfifo(ini)
    code, lines = status_lines()
    assert code == 1
    assert errors(lines) == [f"ERR  cannot read {ini} (not a regular file); fix or remove it"]


def test_two_profiles_one_uninstalled_the_other_stays_green(installed: Path) -> None:
    run_cli("install", "--profile", "work")
    assert status_lines("--profile", "work")[0] == 0
    run_cli("uninstall", "--profile", "work")
    code, lines = status_lines()
    assert code == 0, lines
    assert (installed / EXTENSION).exists()  # still shared with the default profile
    # (the file pip ships in the environment enables it too, and in a venv Jupyter reads that first)
    assert (
        f"ok   window-title server extension enabled for every user of {sys.prefix}: "
        f"{sys.prefix}/etc/jupyter/jupyter_server_config.d/jupyter_helpers.json (for {BIN / 'jupyter'})" in lines
    )


def test_status_says_whether_kernel_deaths_are_sent(installed: Path) -> None:
    code, lines = status_lines()
    assert code == 0 and "ok   kernel deaths: on, the Jupyter server sends them" in "\n".join(lines), lines
    config = installed / ".jupyter" / "jupyter_server_config.py"
    config.write_text("c.KernelWatch.enabled = False\n")
    code, lines = status_lines()
    assert code == 0 and f"ok   kernel deaths: off on purpose (c.KernelWatch.enabled = False in {config})" in lines


def test_status_says_autonotify_enabled_false_turns_kernel_deaths_off(installed: Path) -> None:
    """The server honours c.AutoNotify.enabled = False (docs/kernel-deaths.md); status agrees."""
    config = installed / ".ipython" / "profile_default" / "ipython_kernel_config.py"
    config.write_text("c.AutoNotify.enabled = False\n")
    code, lines = status_lines()
    assert code == 0 and f"ok   kernel deaths: off on purpose (c.AutoNotify.enabled = False in {config})" in lines, (
        lines
    )


def test_a_fresh_install_maps_no_project_and_says_what_titles_show(installed: Path) -> None:
    assert (
        f"ok   projects: none mapped, titles show the server folder's name "
        f"({installed / '.jupyter/jupyter_helpers_projects.json'})"
    ) in status_lines()[1]


@pytest.mark.parametrize(
    "damage, expected",
    [
        (
            "edit",
            "ERR  startup file differs from this version's: {startup} (if you did not edit it, move it away and "
            "run `jupyter-helpers install`)",
        ),
        ("record", "ERR  no installation record in the profile (run `jupyter-helpers install`)"),
        (
            "python",
            "ERR  sender Python {python} cannot import ntfy and jupyter_helpers (run `jupyter-helpers install` "
            "from the environment that has them)",
        ),
    ],
)
def test_a_damaged_profile_is_one_err_line_saying_what_to_do(
    installed: Path, tmp_path: Path, damage: str, expected: str
) -> None:
    profile = installed / ".ipython" / "profile_default"
    startup = profile / "startup" / "00-jupyter-helpers.py"
    record = profile / "jupyter_helpers" / "installation.json"
    python = tmp_path / "bare" / "bin" / "python"
    if damage == "edit":
        startup.write_text(startup.read_text() + "# mine\n")
    elif damage == "record":
        record.unlink()
    else:  # a Python without jupyter-helpers, as a removed or foreign environment leaves the record
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
        record.write_text(json.dumps({**json.loads(record.read_text()), "python": str(python)}, indent=2) + "\n")
    code, lines = status_lines()
    assert code == 1 and errors(lines) == [expected.format(startup=startup, python=python)]


def test_a_profile_config_python_cannot_run_is_one_line(installed: Path) -> None:
    config = installed / ".ipython" / "profile_default" / "ipython_kernel_config.py"
    config.write_text("c.AutoNotify.after = (\n")
    code, lines = status_lines()
    assert code == 1 and len(errors(lines)) == 1
    assert errors(lines)[0].startswith(f"ERR  cannot load {config} (SyntaxError: ")


@pytest.mark.parametrize(
    "where, text, expected",
    [
        (
            ".jupyter/jupyter_server_config.json",
            '{"ServerApp": 5}',
            "ERR  cannot load {path} (ServerApp is a number, not a section of settings: write ServerApp.name = value)",
        ),
        (
            ".jupyter/jupyter_server_config.json",
            '{"KernelWatch": "yes"}',
            "ERR  cannot load {path} (KernelWatch is a text, not a section of settings: "
            "write KernelWatch.name = value)",
        ),
        (
            ".jupyter/jupyter_server_config.py",
            "c.ActivityWatch = [1]\n",
            "ERR  cannot load {path} (ValueError: values whose keys begin with an uppercase char must be Config "
            "instances: 'ActivityWatch', [1])",
        ),
        (
            ".ipython/profile_default/ipython_config.json",
            '{"AutoNotify": 5}',
            "ERR  cannot load {path} (AutoNotify is a number, not a section of settings: "
            "write AutoNotify.name = value)",
        ),
        (".jupyter/jupyter_server_config.py", "raise SystemExit(3)\n", "ERR  cannot load {path} (SystemExit: 3)"),
        (
            ".jupyter/jupyter_server_config.json",
            '{"ActivityWatch": {"url": 5}}',
            "ERR  c.ActivityWatch.url in {path} must be a string, not int",
        ),
        (
            ".jupyter/jupyter_server_config.json",
            '{"ActivityWatch": {"url": "awserver"}}',
            "ERR  c.ActivityWatch.url in {path}: expected an http:// URL such as http://127.0.0.1:5600",
        ),
        (
            ".jupyter/jupyter_server_config.json",
            '{"ActivityWatch": {"url": "localhost:5600"}}',
            "ERR  c.ActivityWatch.url in {path}: expected an http:// URL such as http://127.0.0.1:5600",
        ),
    ],
)
def test_a_config_of_the_wrong_shape_is_one_line_naming_the_file(
    installed: Path, where: str, text: str, expected: str
) -> None:
    """Valid JSON or Python that gives a section a plain value (hostile round): was a traceback."""
    path = installed / where
    path.write_text(text)
    code, lines = status_lines()
    assert code == 1 and expected.format(path=path) in errors(lines), lines


def test_a_folder_where_the_startup_file_belongs_is_one_line(installed: Path) -> None:
    startup = installed / ".ipython/profile_default/startup/00-jupyter-helpers.py"
    startup.unlink()
    startup.mkdir()
    code, lines = status_lines()
    assert code == 1 and errors(lines) == [
        f"ERR  startup file is not a file: {startup} (move it away and run `jupyter-helpers install`)"
    ], lines


def test_in_one_folder_the_json_config_wins_as_ipython_reads_it(installed: Path) -> None:
    """IPython loads NAME.py, then NAME.json: status read them the other way round (review)."""
    profile = installed / ".ipython/profile_default"
    (profile / "ipython_kernel_config.py").write_text("c.AutoNotify.enabled = False\n")
    (profile / "ipython_kernel_config.json").write_text('{"AutoNotify": {"enabled": true}}')
    code, lines = status_lines()
    assert code == 0 and not [line for line in lines if "notifications off" in line], lines
    (profile / "ipython_kernel_config.json").write_text('{"AutoNotify": {"enabled": false}}')
    (profile / "ipython_kernel_config.py").write_text("c.AutoNotify.enabled = True\n")
    assert [line for line in status_lines()[1] if "notifications off on purpose" in line]


def test_status_shows_the_memory_limit_kernels_see_and_both_levels(
    installed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit is read from a FAKE cgroup v2 tree (JUPYTER_HELPERS_SYSROOT stands in for `/`), as
    most users' machines and pods have it; these test machines run v1."""
    root = tmp_path / "root"
    (root / "proc/self").mkdir(parents=True)
    (root / "proc/self/cgroup").write_text("0::/user.slice/jupyter.service\n")
    (root / "proc/meminfo").write_text("MemTotal: 32768000 kB\nMemAvailable: 30000000 kB\n")
    service = root / "sys/fs/cgroup/user.slice/jupyter.service"
    service.mkdir(parents=True)
    for folder in (root / "sys/fs/cgroup", root / "sys/fs/cgroup/user.slice", service):
        (folder / "cgroup.procs").write_text("")
    (service / "memory.max").write_text(f"{8 * 1024**3}\n")
    (service / "memory.current").write_text(f"{1024**3}\n")
    (service / "memory.stat").write_text("anon 1\ninactive_file 1024\n")
    monkeypatch.setenv("JUPYTER_HELPERS_SYSROOT", str(root))
    code, lines = status_lines()
    assert (
        code == 0
        and (
            "ok   memory: kernels started from here see cgroup v2 limit 8.0 GB; a 🧠 message at 90% "
            "(c.AutoNotify.memory_warn), no interrupt before the OOM killer (c.AutoNotify.memory_interrupt)"
        )
        in lines
    ), lines
    config = installed / ".ipython/profile_default/ipython_kernel_config.py"
    config.write_text("c.AutoNotify.memory_warn = 0.8\nc.AutoNotify.memory_interrupt = 0.95\n")
    code, lines = status_lines()
    assert [line for line in lines if "memory:" in line] == [
        "ok   memory: kernels started from here see cgroup v2 limit 8.0 GB; a 🧠 message at 80% "
        "(c.AutoNotify.memory_warn), the cell interrupted at 95% (c.AutoNotify.memory_interrupt)"
    ]
    config.write_text("c.AutoNotify.memory_interrupt = 1.5\n")
    code, lines = status_lines()
    assert code == 1 and errors(lines) == [
        f"ERR  c.AutoNotify.memory_interrupt = 1.5 in {config} is not a fraction from 0 to 0.99 "
        "(0 turns it off); using 0.0"
    ]
    config.write_text("c.AutoNotify.memory_interrupt = 0.85\n")
    code, lines = status_lines()
    assert code == 1 and errors(lines) == [
        "ERR  c.AutoNotify.memory_interrupt = 0.85 is not above memory_warn (0.9); using 0.0 (off); "
        "set memory_warn below it, or raise it above memory_warn"
    ]
    config.unlink()
    monkeypatch.delenv("JUPYTER_HELPERS_SYSROOT")
    code, lines = status_lines()
    [line] = [line for line in lines if "memory:" in line]
    assert re.match(r"ok   memory: kernels started from here see (machine|cgroup v[12] limit) [\d.]+ [GM]B; ", line)
