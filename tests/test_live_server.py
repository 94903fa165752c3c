"""A live message outlives no kernel: a kernel killed (`kill -9`) mid-run inside a real Jupyter
server, whose live message the server ends within 15 s, through the delivery child and the real
Telegram chain to the fake Bot API. Reuses the kernel-death tests' kernel helper
(and their site, as conftest's live_site)."""

from __future__ import annotations

import os
import signal
import time

from test_kernel_deaths import Kernel

from support.fake_telegram import FakeTelegram
from support.jupyter_server import JupyterServer
from support.waiting import wait_until


def test_a_kernel_killed_mid_run_gets_its_live_message_ended_by_the_server(live_site: dict) -> None:
    fake: FakeTelegram = live_site["fake"]
    with JupyterServer("notebook", live_site["work"], live_site["env"], live_site["base"] / "server.log") as server:
        kernel = Kernel(server, live_site["runtime"], "alpha/train.ipynb")
        try:
            pid = kernel.pid()
            kernel.run("import time\nfor epoch in range(100):\n    print(f'epoch {epoch}')\n    time.sleep(0.5)")
            record = live_site["runtime"] / "jupyter-helpers-live" / f"{kernel.id}.json"
            assert wait_until(lambda: fake.changes() and record.exists(), 60), fake.messages  # edited at least once
            [live] = fake.sends()
            live_id = next(message_id for message_id, text in fake.current.items() if text.startswith("⏳"))
            assert live["text"].startswith("⏳ train.ipynb (Project Alpha): cell [1] running, 0 cells done, ")
            os.kill(pid, signal.SIGKILL)
            killed = time.time()
            ended = wait_until(lambda: [c for c in fake.changes() if c["text"].startswith("💀")], 30)
            assert ended, fake.changes()
        finally:
            kernel.close()
    [edit] = ended
    assert edit["at"] - killed < 15
    assert edit["text"].startswith("💀 train.ipynb (Project Alpha): the kernel died after "), edit["text"]
    assert edit["text"].endswith(" of this run")
    assert edit["message_id"] == str(live_id)
    assert not record.exists()
    deaths = [send for send in fake.sends() if send["text"].startswith("💀")]
    assert len(deaths) == 1 and deaths[0]["at"] <= edit["at"]  # the death message first, as a new message
    assert not [c for c in fake.changes() if c["at"] > edit["at"]]  # nothing edits it after


def test_while_you_watch_the_live_message_is_sent_and_the_final_message_held(live_site: dict) -> None:
    """The presence record says a focused page had input just now (written here as the server
    writes it for a page that reports): the silent live message goes anyway, the final message is
    held, and the live message still gets its last edit."""
    from jupyter_helpers.common.presence import presence_file, write_private_json

    fake: FakeTelegram = live_site["fake"]
    with JupyterServer("notebook", live_site["work"], live_site["env"], live_site["base"] / "server.log") as server:
        kernel = Kernel(server, live_site["runtime"], "alpha/train.ipynb")
        try:
            now = time.time()
            page = {"page": "p", "focused": True, "visible": True, "closed": False, "reported": now, "last_input": now}
            write_private_json(presence_file(live_site["runtime"], kernel.id), {"kernel": kernel.id, "pages": [page]})
            kernel.client.execute_interactive(
                "import time\nfor i in range(6):\n    print(f'step {i}')\n    time.sleep(0.5)", timeout=60
            )
            ended = wait_until(lambda: [c for c in fake.changes() if not c["text"].startswith("⏳")], 30)
        finally:
            kernel.close()
    assert ended, fake.messages
    assert [send["disable_notification"] for send in fake.sends()] == ["true"], fake.sends()  # final held
    assert ended[-1]["text"].startswith("✅ train.ipynb (Project Alpha): cell [1] finished after "), ended


def test_a_kernel_killed_while_its_first_live_send_is_in_flight_gets_that_message_ended(live_site: dict) -> None:
    """`kill -9` while Telegram has not yet answered the silent send: the kernel never learnt the
    message's id, so it wrote no live record and the server cannot end it; the delivery child,
    which outlives the kernel, gets the id, finds the kernel gone and ends the message itself."""
    fake: FakeTelegram = live_site["fake"]
    fake.lose_next("sendMessage", lambda fields: fields.get("disable_notification") == "true", late=6)
    record = live_site["runtime"] / "jupyter-helpers-live"
    with JupyterServer("notebook", live_site["work"], live_site["env"], live_site["base"] / "server.log") as server:
        kernel = Kernel(server, live_site["runtime"], "alpha/train.ipynb")
        try:
            pid = kernel.pid()
            kernel.run("import time\nfor epoch in range(100):\n    print(f'epoch {epoch}')\n    time.sleep(0.5)")
            assert wait_until(lambda: fake.lost, 60), fake.messages  # the silent send, not answered yet
            os.kill(pid, signal.SIGKILL)
            ended = wait_until(lambda: [c for c in fake.changes() if not c["text"].startswith("⏳")], 40)
            assert ended, (fake.messages, fake.current)
            assert wait_until(lambda: [s for s in fake.sends() if s["text"].startswith("💀")], 30), fake.sends()
        finally:
            kernel.close()
    [edit] = ended
    [live] = [send for send in fake.sends() if send["disable_notification"] == "true"]
    assert live["text"].startswith("⏳ train.ipynb (Project Alpha): cell [1] running, 0 cells done, ")
    assert edit["text"] == "⏹ train.ipynb (Project Alpha): the kernel ended during this run", edit["text"]
    assert edit["at"] >= live["at"] and fake.current[int(edit["message_id"])] == edit["text"]
    assert not any(text.startswith("⏳") for text in fake.current.values()), fake.current
    assert not [c for c in fake.changes() if c["at"] > edit["at"]]  # nothing edits it after
    assert not record.exists() or not list(record.glob("*.json"))  # no record was left behind
