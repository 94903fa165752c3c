"""Live messages through real parts: a real ipykernel (nbclient) with the startup file installed by
the real CLI, tqdm from PyPI, and the real delivery chain to the fake Bot API, which records the
silent send, every edit and the final message."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from support.kernels import kernel_config
from support.notebooks import run_notebook

LIVE = "c.AutoNotify.after = 1\nc.AutoNotify.live = 1.5\nc.AutoNotify.live_every = 1\n"


def live_story(telegram, starts: str = "⏳ analysis.ipynb: cell [") -> tuple[dict, list[dict], dict, list[dict]]:
    """(the silent first live message, its edits while the run went on, the final message, the
    edits after it), checked for what every live message must show."""
    sends = telegram.sends()
    silent = [send for send in sends if send.get("disable_notification") == "true"]
    finals = [send for send in sends if send.get("disable_notification") != "true"]
    assert len(silent) == 1 and len(finals) == 1, sends
    first, final = silent[0], finals[0]
    assert first["text"].startswith(starts), first["text"]
    changes = telegram.changes()
    during = [change for change in changes if change["at"] < final["at"]]
    after = [change for change in changes if change["at"] >= final["at"]]
    assert all(change["text"].startswith("⏳") for change in during)
    texts = [first["text"]] + [change["text"] for change in during]
    assert all(a != b for a, b in zip(texts, texts[1:], strict=False))  # edited only when the text changed
    assert len(after) == 1 and not after[0]["text"].startswith("⏳"), after  # ended once, nothing after
    return first, during, final, after


def wait_ended(telegram, timeout: float = 30) -> None:
    """Until the live message was ended (its last edit arrives after the final message)."""
    from support.waiting import wait_until

    assert wait_until(lambda: any(not change["text"].startswith("⏳") for change in telegram.changes()), timeout), [
        (m["path"].rsplit("/", 1)[1], m.get("text"), m.get("disable_notification")) for m in telegram.messages
    ]


@pytest.mark.parametrize("module", ["tqdm", "tqdm.auto"])
def test_a_long_run_with_a_tqdm_bar_shows_its_progress_live(
    kernel_home: Path, telegram, home: Path, module: str
) -> None:
    kernel_config(home, LIVE)
    run_notebook(
        [
            f"import time\nfrom {module} import tqdm",
            "for step in tqdm(range(50), desc='epochs'):\n    time.sleep(0.12)",
            "'trained'",
        ],
        kernel_home,
    )
    wait_ended(telegram)
    first, during, final, after = live_story(telegram)
    bar_lines = [text.splitlines()[1] for text in [first["text"]] + [change["text"] for change in during]]
    assert any(
        line.startswith("epochs: ") and "% " in line and "/50 it" in line and "it/s" in line for line in bar_lines
    ), bar_lines
    assert any(" left" in line for line in bar_lines), bar_lines
    assert final["text"].startswith("✅ analysis.ipynb: cells [1]–[3] finished after ")
    assert after[0]["text"] == final["text"].splitlines()[0]


def test_without_a_bar_the_live_message_shows_the_last_printed_line(kernel_home: Path, telegram, home: Path) -> None:
    kernel_config(home, LIVE)
    run_notebook(
        ["import time\nfor i in range(5):\n    print(f'\\x1b[1mloss {i}\\x1b[0m')\n    time.sleep(0.7)"], kernel_home
    )
    wait_ended(telegram)
    first, during, final, after = live_story(telegram)
    texts = [first["text"]] + [change["text"] for change in during]
    assert any(text.splitlines()[1].startswith("loss ") for text in texts), texts  # escapes cleaned
    assert all("\x1b" not in text for text in texts)
    assert first["text"].splitlines()[0].startswith("⏳ analysis.ipynb: cell [1] running, 0 cells done, ")
    assert final["text"].startswith("✅ analysis.ipynb: cell [1] finished after ")


def test_a_run_shorter_than_live_gets_none(kernel_home: Path, telegram, home: Path) -> None:
    kernel_config(home, "c.AutoNotify.after = 1\nc.AutoNotify.live = 30\n")
    run_notebook(["import time; time.sleep(1.2)"], kernel_home)
    assert telegram.wait_for(1)
    assert [send.get("disable_notification") for send in telegram.sends()] == ["false"]  # the final one only
    assert telegram.changes() == []


def test_a_kernel_started_as_vs_code_starts_one_names_its_notebook(
    kernel_home: Path, telegram, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """VS Code: `python -m ipykernel_launcher -f CONNECTION_FILE` (no Jupyter server, no
    JPY_SESSION_NAME), started in a folder that is not the notebook's, then the
    `__vsc_ipynb_file__` line after the startup file has run."""
    from jupyter_client.manager import start_new_kernel

    from conftest import run_cli

    monkeypatch.delenv("JPY_SESSION_NAME")
    notebook = home / "code" / "vision" / "train.ipynb"
    notebook.parent.mkdir(parents=True)
    run_cli("projects", "add", str(notebook.parent), "Vision")
    kernel_config(home, LIVE)
    elsewhere = home / "somewhere-else"
    elsewhere.mkdir()
    manager, client = start_new_kernel(kernel_name="python3", cwd=str(elsewhere))
    try:
        assert manager.kernel_spec.argv[1:4] == ["-m", "ipykernel_launcher", "-f"]
        client.execute_interactive(f"__vsc_ipynb_file__ = {str(notebook)!r}", timeout=60)
        status: list[str] = []
        client.execute_interactive(
            "%autonotify --status",
            timeout=60,
            output_hook=lambda msg: status.append(msg["content"].get("text", "")),
        )
        time.sleep(1.5)  # over run_gap: the next cell begins a run of its own, as a user's would
        client.execute_interactive(
            "import time\nfor i in range(4):\n    print(f'step {i}')\n    time.sleep(0.8)", timeout=60
        )
        wait_ended(telegram)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=False)
    lines = "".join(status).splitlines()
    assert (
        "presence (--when away, input within 120 s): kernel not started by a Jupyter server: phone messages sent"
        in lines
    ), lines
    first, during, final, after = live_story(telegram, "⏳ train.ipynb (Vision): cell [3] running, 0 cells done, ")
    assert final["text"].startswith("✅ train.ipynb (Vision): cell [3] finished after "), final["text"]
