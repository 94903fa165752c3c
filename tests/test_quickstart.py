"""The README's quick start, followed as a newcomer would: a fresh clone, an empty HOME and nothing
on PATH but the system. Its code blocks are run as written (only the clone URL points at this
checkout), and they must end in a delivered test message and a JupyterLab page whose title ends
in its project.

The blocks are found by the `<!-- quickstart:NAME -->` comments above them in README.md, so the
README cannot drift from what this test runs. The only things added are what a root-run test
machine needs and a user never does: the server's port, token and `allow_root` come from a
machine-wide config dir (JUPYTER_CONFIG_PATH, outside HOME), and the fake Telegram's proxy
variables are set for the block that sends.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import TOKEN as BOT_TOKEN
from support.browser import chromium, require_chromium, settled_title
from support.fake_telegram import read_start_code
from support.processes import free_port

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
TOKEN = "quickstart-token"
SYSTEM_PATH = "/usr/bin:/bin"


def readme_block(name: str) -> str:
    """The fenced code block right after `<!-- quickstart:NAME -->` in the README."""
    match = re.search(rf"<!-- quickstart:{name} -->\s*```\w*\n(.*?)```", README.read_text(), re.S)
    assert match, f"README.md has no <!-- quickstart:{name} --> block"
    return match.group(1)


def machine_config(tmp_path: Path, port: int) -> Path:
    """What a root-run test machine needs (a user's laptop does not): outside HOME."""
    config = tmp_path / "machine-jupyter-config"
    config.mkdir()
    settings = {
        "ServerApp": {"allow_root": True, "ip": "127.0.0.1", "port": port, "open_browser": False, "port_retries": 0},
        "IdentityProvider": {"token": TOKEN},
    }
    (config / "jupyter_server_config.json").write_text(json.dumps(settings))
    return config


def wait_for_server(url: str, process: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the quick start stopped (exit {process.returncode}):\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}api/status?token={TOKEN}", timeout=5):
                return
        except OSError:
            time.sleep(1)
    pytest.fail(f"no Jupyter server after {timeout} s:\n{log.read_text()[-4000:]}")


def stop(process: subprocess.Popen) -> None:
    """The block runs in its own session: end the shell, pip or Jupyter and their children."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def start_block(script: str, env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen:
    with log.open("ab") as handle:
        return subprocess.Popen(
            ["bash", "-e", "-c", script],
            env=env,
            cwd=cwd,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def lab_title(browser, url: str, expected: re.Pattern) -> str:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.goto(url)
        return settled_title(page, expected, timeout=60)
    finally:
        context.close()


def test_readme_quick_start_from_a_fresh_clone(tmp_path: Path, telegram) -> None:
    require_chromium()
    home = tmp_path / "newcomer"
    home.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    machine = {k: v for k, v in os.environ.items() if k.startswith("PIP_") or k in {"LANG", "LC_ALL", "TMPDIR"}}
    env = {
        **machine,
        "HOME": str(home),
        "PATH": SYSTEM_PATH,
        "SHELL": "/bin/bash",
        "JUPYTER_CONFIG_PATH": str(machine_config(tmp_path, port)),
    }
    install = readme_block("install").replace(
        re.search(r"git clone (\S+)", readme_block("install")).group(1), str(ROOT), 1
    )
    log = tmp_path / "quickstart.log"
    server = start_block(install, env, home, log)
    try:
        wait_for_server(url, server, log, timeout=900)
        venv_bin = home / ".venvs" / "jupyter" / "bin"
        activated = {**env, "PATH": f"{venv_bin}:{SYSTEM_PATH}", "VIRTUAL_ENV": str(venv_bin.parent)}

        setup = subprocess.Popen(
            ["bash", "-e", "-c", readme_block("telegram")],
            env={**activated, **telegram.env()},
            cwd=home,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )  # no terminal: the hidden prompt reads the pasted token
        assert setup.stdin is not None and setup.stdout is not None
        setup.stdin.write(BOT_TOKEN + "\n")
        setup.stdin.flush()
        code, before = read_start_code(setup.stdout.fileno())
        telegram.user_taps_start(code)  # what the README asks: open the link on the phone, tap Start
        out, err = setup.communicate(timeout=180)
        assert setup.returncode == 0, before.decode() + out + err
        assert re.search(r"^sent a test message via telegram in \d+(\.\d+)? s: check Telegram$", out, re.M)
        texts = telegram.wait_for(1)
        assert texts == ["✅ jupyter-helpers can reach you here: long runs will report to this chat."], texts

        with chromium() as browser:
            unmapped = re.compile(r"(.+ - )?JupyterLab - newcomer")  # the server root is ~ (unmapped)
            assert unmapped.fullmatch(lab_title(browser, f"{url}lab?token={TOKEN}", unmapped))

            notebook = home / "work" / "alpha" / "analysis.ipynb"
            notebook.parent.mkdir(parents=True)
            notebook.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
            mapped = subprocess.run(
                ["bash", "-e", "-c", readme_block("project")],
                env=activated,
                cwd=home,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert mapped.returncode == 0, mapped.stdout + mapped.stderr
            stop(server)
            server = start_block("jupyter lab", activated, home, log)
            wait_for_server(url, server, log, timeout=120)
            alpha = re.compile(r"analysis\.ipynb( \(\d+\))? - JupyterLab - Project Alpha")
            title = lab_title(browser, f"{url}lab/tree/work/alpha/analysis.ipynb?token={TOKEN}", alpha)
            assert alpha.fullmatch(title), title
    finally:
        stop(server)
