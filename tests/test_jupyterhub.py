"""JupyterHub end to end: a real hub (dummy login, configurable-http-proxy, `disable_user_config`),
single-user servers run from an environment of their own where the admin ran `install --sys-prefix`
(tests/support/environments.py), alice's notebook in Debian's Chromium with real focus, bob given
access to alice's server (`access:servers!user=alice`), and the real ntfy chain to the fake Telegram.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from conftest import TOKEN as BOT_TOKEN
from support.browser import require_chromium, settled_title
from support.environments import Environment, make_environment, project_wheel
from support.fake_telegram import FakeTelegram, write_credentials
from support.jupyterhub import JupyterHub, process_environment, require_proxy
from support.notebooks import save_notebook
from support.snapshot import snapshot
from support.waiting import wait_until

pytestmark = pytest.mark.browser
CHATS = {"alice": "1111", "bob": "2222"}
NOTEBOOK = "work/alpha/analysis.ipynb"
LONG_CELL = "import time; time.sleep(1.5); 'slow result'"
SHARING = """
c.Spawner.disable_user_config = True
c.JupyterHub.load_roles.append({"name": "alice-shares", "users": ["bob"], "scopes": ["access:servers!user=alice"]})
"""


def as_user(env: Environment, home: Path, *args: str, environ: dict[str, str] | None = None) -> str:
    """`jupyter-helpers ARGS` as the user whose home this is (their environment, if given)."""
    base = environ or {
        **{k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "IPYTHON", "XDG"))},
        "HOME": str(home),
    }
    done = subprocess.run(
        [str(env.bin / "jupyter-helpers"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, "PATH": f"{env.bin}{os.pathsep}{base.get('PATH', '')}"},
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory):
    require_chromium()
    require_proxy()
    base = tmp_path_factory.mktemp("hub")
    env = make_environment(base / "env", project_wheel(tmp_path_factory))
    before = snapshot(env.etc)
    as_user(env, base / "admin", "install", "--sys-prefix")  # the admin, once
    homes = base / "homes"
    for user, chat in CHATS.items():
        write_credentials(homes / user, BOT_TOKEN, chat)
    save_notebook(homes / "alice" / NOTEBOOK, ["%autonotify -a 1", LONG_CELL, "%notify marker"])
    as_user(env, homes / "alice", "projects", "add", str(homes / "alice" / "work" / "alpha"), "Project Alpha")
    with (
        FakeTelegram(base) as fake,
        JupyterHub(base, env.bin / "jupyterhub-singleuser", list(CHATS), SHARING, fake.env()) as running,
    ):
        running.env, running.fake, running.etc_before = env, fake, before
        running.pid = running.start_server("alice")
        yield running


def log_in(browser, hub: JupyterHub, user: str):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(hub.url + "hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", "any")
    page.click("#login_submit")
    page.wait_for_url(lambda url: "/hub/login" not in url, timeout=60_000)
    page.close()
    return context


def open_alices_notebook(context, hub: JupyterHub):
    page = context.new_page()
    page.goto(f"{hub.url}user/alice/notebooks/{NOTEBOOK}")
    if "/oauth2/authorize" in page.url:  # a visitor confirms once that alice's server may know who they are
        page.locator("form [type=submit]").first.click()
    page.wait_for_selector(".jp-Cell", timeout=90_000)
    assert wait_until(lambda: kernel_state(hub) == "idle", 90), kernel_state(hub)
    context.new_cdp_session(page).send("Emulation.setFocusEmulationEnabled", {"enabled": False})
    page.bring_to_front()
    return page


def give_input(page) -> None:
    page.mouse.move(300, 300)
    page.mouse.move(320, 310)


def run_cell(page, index: int) -> None:
    prompt = page.locator(".jp-Cell").nth(index).locator(".jp-InputPrompt")
    before = prompt.inner_text().strip()
    prompt.click()
    page.keyboard.press("Shift+Enter")

    def finished() -> bool:
        text = prompt.inner_text().strip()
        return text != before and "*" not in text and any(ch.isdigit() for ch in text)

    assert wait_until(finished, 60), f"cell {index} did not finish: {prompt.inner_text()!r}"


def chat_texts(fake: FakeTelegram, user: str, since: int = 0) -> list[str]:
    return [
        message.get("text", "")
        for message in fake.messages[since:]
        if message.get("chat_id") == CHATS[user] and message["path"].endswith("/sendMessage")
    ]


def kernel_state(hub: JupyterHub) -> str | None:
    sessions = hub.api("user/alice/api/sessions") or []
    return next((s["kernel"]["execution_state"] for s in sessions if s["path"] == NOTEBOOK), None)


def presence_pages(hub: JupyterHub) -> list[dict]:
    sessions = hub.api("user/alice/api/sessions") or []
    kernel = next(s["kernel"]["id"] for s in sessions if s["path"] == NOTEBOOK)
    path = hub.homes / "alice" / ".local/share/jupyter/runtime/jupyter-helpers-presence" / f"{kernel}.json"
    try:
        return json.loads(path.read_text())["pages"]
    except (OSError, ValueError):
        return []


def test_status_as_alice_in_her_servers_environment_is_all_ok(hub: JupyterHub) -> None:
    environ = process_environment(hub.pid)  # exactly what the spawner gave her server (and her terminals)
    assert environ["JUPYTERHUB_USER"] == "alice" and environ["JUPYTERHUB_DISABLE_USER_CONFIG"] == "1"
    lines = as_user(hub.env, hub.homes / "alice", "status", environ=environ).splitlines()
    assert all(line.startswith("ok ") for line in lines), lines
    assert f"ok   kernels load jupyter-helpers for every user of {hub.env.prefix}" in lines[0]
    log = (hub.base / "jupyterhub.log").read_text()
    assert (
        "jupyter-helpers: alice's server: only alice's own pages count as looking; per-user config is "
        "disabled (JUPYTERHUB_DISABLE_USER_CONFIG)" in log
    )


def test_alices_message_is_held_while_she_watches_and_sent_while_only_bob_does(browser, hub: JupyterHub) -> None:
    alice = open_alices_notebook(log_in(browser, hub, "alice"), hub)
    assert settled_title(alice, "analysis - Project Alpha") == "analysis - Project Alpha"
    give_input(alice)
    run_cell(alice, 0)

    since = len(hub.fake.messages)  # alice looking (focus, fresh input): held
    give_input(alice)
    run_cell(alice, 1)
    time.sleep(3)  # past the run gap: a message would have been handed on by now
    run_cell(alice, 2)
    assert wait_until(lambda: any("marker" in text for text in chat_texts(hub.fake, "alice", since)))
    assert [text for text in chat_texts(hub.fake, "alice", since) if "finished after" in text] == []

    elsewhere = alice.context.new_page()  # alice turns to another tab of hers: she does not look
    elsewhere.goto(hub.url + "user/alice/tree")
    elsewhere.context.new_cdp_session(elsewhere).send("Emulation.setFocusEmulationEnabled", {"enabled": False})
    elsewhere.bring_to_front()
    assert wait_until(lambda: not alice.evaluate("document.hasFocus()"))
    bob = open_alices_notebook(log_in(browser, hub, "bob"), hub)  # bob watches her notebook, in his own window
    assert settled_title(bob, "analysis - Project Alpha") == "analysis - Project Alpha"  # her map, her server
    assert wait_until(lambda: bob.evaluate("document.hasFocus()") and not alice.evaluate("document.hasFocus()"))
    give_input(bob)
    assert wait_until(lambda: [page["focused"] for page in presence_pages(hub)] == [False], 20), presence_pages(hub)
    since = len(hub.fake.messages)
    give_input(bob)
    run_cell(bob, 1)  # bob watches and types in alice's notebook; alice does not look
    sent = wait_until(lambda: [text for text in chat_texts(hub.fake, "alice", since) if "finished after" in text])
    assert len(sent) == 1 and sent[0].startswith("✅ analysis.ipynb (Project Alpha): cell ["), sent
    assert len(presence_pages(hub)) == 1  # bob's page never reached alice's presence
    assert chat_texts(hub.fake, "bob") == []
    alice.context.close()
    bob.context.close()


def test_uninstall_sys_prefix_leaves_etc_byte_for_byte(hub: JupyterHub) -> None:
    """Last in this module: the hub stops, then the admin uninstalls."""
    hub.stop()
    done = as_user(hub.env, hub.base / "admin", "uninstall", "--sys-prefix")
    assert f"removed: {hub.env.etc / 'ipython/ipython_kernel_config.json'}" in done
    assert snapshot(hub.env.etc) == hub.etc_before
