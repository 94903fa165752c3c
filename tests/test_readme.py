"""Every output sample in the README is what the product prints: each block marked
`<!-- output:NAME -->` is produced here for real (the CLI, a kernel, the fake Bot API) in a fresh
home and compared line by line (support/readme.py says what is normalised). The `%autonotify`
sample comes from a real page in tests/test_presence_browser.py.
"""

from __future__ import annotations

import os
import socket
import subprocess
from importlib.metadata import requires
from pathlib import Path

import pytest

from conftest import BIN, TOKEN, run_cli
from support.fake_telegram import start_code
from support.notebooks import run_notebook
from support.readme import README, normal, sample, sample_names, samples
from support.terminal import pair_on_a_terminal


def run_session(block: str, home: Path, env: dict[str, str] | None = None) -> tuple[str, str]:
    """Runs each `$ command` of a block in bash in `home`; returns (what the block shows, what ran)."""
    shown, printed = [], []
    for line in block.splitlines():
        if line.startswith("$ "):
            shown.append(line)
            printed.append(line)
            done = subprocess.run(
                ["bash", "-c", line[2:]],
                capture_output=True,
                text=True,
                timeout=120,
                cwd=home,
                env={**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", **(env or {})},
            )
            printed.extend((done.stdout + done.stderr).splitlines())
        else:
            shown.append(line)
    return "\n".join(shown), "\n".join(printed)


@pytest.fixture
def me(home: Path, telegram, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A newcomer's home after the quick start: installed, Telegram set up; kernels run
    ~/work/alpha/analysis.ipynb (the name Jupyter's server gives them)."""
    run_cli("install")
    (home / "work" / "alpha").mkdir(parents=True)
    monkeypatch.setenv("JPY_SESSION_NAME", str(home / "work" / "alpha" / "analysis.ipynb"))
    return home


def test_install(home: Path) -> None:
    assert normal(run_cli("install").stdout, home) == normal(sample("install"), home)


def test_telegram_setup_on_a_terminal(home: Path, telegram) -> None:
    (home / ".config" / "ntfy" / "telegram.ini").unlink()
    run_cli("install")
    telegram.bot_username = "my_jupyter_bot"
    seen, code = pair_on_a_terminal(BIN / "jupyter-helpers", TOKEN, telegram, chat_id=4242, first_name="Ada")
    shown = sample("telegram")
    assert normal(seen.decode().replace(code, start_code(shown.encode()) or ""), home) == normal(shown, home)


def test_messages(me: Path, telegram) -> None:
    run_cli("projects", "add", str(me / "work" / "alpha"), "Project Alpha")
    alpha = me / "work" / "alpha"
    run_notebook(["%autonotify -a 1", "import time; time.sleep(0.8)", "time.sleep(0.4); 'done'"], alpha)
    run_notebook(["%autonotify -a 1", "import time; time.sleep(1.2)", "raise ValueError('boom')"], alpha)
    texts = telegram.wait_for(2, timeout=60)
    shown = samples("messages")
    assert [normal(text + "\n", me) for text in texts] == [normal(block, me) for block in shown]


def test_live_message(me: Path, telegram) -> None:
    run_cli("projects", "add", str(me / "work" / "alpha"), "Project Alpha")
    cell = "import time\nprint('epoch 3/30: loss 0.412')\ntime.sleep(2.5)"
    run_notebook(["%autonotify -a 1 --live 1 --live-every 60", cell], me / "work" / "alpha")
    telegram.wait_for(2, timeout=60)
    [live] = [send["text"] for send in telegram.sends() if send["disable_notification"] == "true"]
    assert normal(live + "\n", me) == normal(sample("live"), me)


def test_notify_and_projects(me: Path, telegram) -> None:
    for name in ("notify", "projects"):
        shown, printed = run_session(sample(name), me)
        assert normal(printed, me) == normal(shown, me).rstrip("\n"), name


def test_status_of_a_healthy_setup(me: Path, telegram) -> None:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 5600)) == 0:
            pytest.skip("something listens on 127.0.0.1:5600 (ActivityWatch?); the sample shows it absent")
    run_cli("projects", "add", str(me / "work" / "alpha"), "Project Alpha")
    run_cli("projects", "add", str(me / "work" / "beta"), "Project Beta")
    shown, printed = run_session(sample("status"), me)
    assert normal(printed, me) == normal(shown, me).rstrip("\n")


def test_uninstall_says_what_stays(me: Path, telegram) -> None:
    run_cli("projects", "add", str(me / "work" / "alpha"), "Project Alpha")
    shown, printed = run_session(sample("uninstall"), me)
    assert normal(printed, me) == normal(shown, me).rstrip("\n")


def test_nbclassic_is_named_with_how_to_get_it() -> None:
    """`pip install .` does not bring nbclassic (hostile round: the README promised its titles)."""
    required = [requirement for requirement in requires("jupyter-helpers") or [] if "extra ==" not in requirement]
    assert required and not any(requirement.startswith("nbclassic") for requirement in required)
    paragraphs = [text for text in README.read_text().split("\n\n") if "nbclassic" in text]
    assert paragraphs and all("pip install nbclassic" in text for text in paragraphs), paragraphs


def test_every_output_sample_is_checked() -> None:
    """A new sample in the README needs a test above: this list is what they cover."""
    covered = ["install", "telegram", "messages", "live", "autonotify", "notify", "projects", "status", "uninstall"]
    assert sorted(sample_names()) == sorted(covered)
