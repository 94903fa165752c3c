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


def test_a_job_stopped_by_sigterm_sends_its_stop_and_ends_its_live_message(
    kernel_home: Path, telegram, home: Path
) -> None:
    import os
    import signal
    import threading

    from support.notebooks import open_kernel, stream_text
    from support.waiting import wait_until

    kernel_config(home, LIVE)

    def kill_once_live(pid: int) -> None:
        if wait_until(lambda: telegram.changes(), 60):  # the live message exists and was edited
            os.kill(pid, signal.SIGTERM)

    with open_kernel(kernel_home) as execute:
        pid = int(stream_text(execute("import os, time; print(os.getpid())")))
        threading.Thread(target=kill_once_live, args=(pid,), daemon=True).start()
        try:
            execute("for i in range(60):\n    print(f'epoch {i}')\n    time.sleep(0.5)")
        except Exception:  # nbclient: the kernel died
            pass
    wait_ended(telegram)
    first, during, final, after = live_story(telegram)
    assert final["text"].startswith("🛑 analysis.ipynb: cells [1]–[2] stopped by SIGTERM after "), final["text"]
    assert after[0]["text"] == final["text"].splitlines()[0]


def test_a_live_message_the_user_deleted_is_left_alone_and_a_429_is_waited_out(
    kernel_home: Path, telegram, home: Path
) -> None:
    """Telegram's answers make no noise under the cell: a 429 holds the next edit, a message the
    user deleted gets no more edits, and the final message still arrives."""
    from support.notebooks import open_kernel, stream_text
    from support.waiting import wait_until

    kernel_config(home, LIVE)
    telegram.refuse_next("editMessageText", 2)
    with open_kernel(kernel_home) as execute:
        execute("import time")
        time.sleep(1.5)  # a run of its own

        def delete_after_an_edit() -> None:
            if wait_until(lambda: telegram.changes(), 60):
                telegram.user_deletes(int(telegram.changes()[0]["message_id"]))

        import threading

        threading.Thread(target=delete_after_an_edit, daemon=True).start()
        cell = execute("for i in range(20):\n    print(f'step {i}')\n    time.sleep(0.5)")
        assert wait_until(lambda: [send for send in telegram.sends() if send["disable_notification"] != "true"], 30)
        later = execute("'next'")
    assert "jupyter-helpers" not in stream_text(cell, "stderr") + stream_text(later, "stderr")
    calls = telegram.calls
    first_edit = calls.index("editMessageText")  # the refused one (429)
    assert "editMessageText" in calls[first_edit + 1 :]
    [edit] = telegram.changes()  # one edit done, then the user deleted the message: none after
    [(_, refused_at)] = telegram.refused
    assert edit["at"] - refused_at >= 2 - 0.1  # retry_after waited out
    final = telegram.sends()[-1]
    assert final["text"].startswith("✅ analysis.ipynb: cell [2] finished after "), final["text"]


def test_with_only_other_backends_there_is_no_live_message_and_the_status_says_why(
    kernel_home: Path, telegram, home: Path, recorder: Path
) -> None:
    from support.notebooks import stream_text
    from support.waiting import wait_until

    (home / ".config" / "ntfy" / "ntfy.yml").write_text("backends: [recorder_backend]\n")
    kernel_config(home, LIVE)
    # the child's "cannot" comes back within the 5 s cell (the live look is 1.5 s into it)
    nb = run_notebook(["import time; time.sleep(5)", "%autonotify --status"], kernel_home)
    assert telegram.sends() == [] and telegram.changes() == []
    received = wait_until(lambda: recorder.exists() and recorder.read_text(), 30)
    assert received and received.count("===") == 1 and "|✅ analysis.ipynb: cells [1]–[2] finished" in received, (
        received
    )
    status = stream_text(nb.cells[1], "stdout").splitlines()
    live = [line for line in status if line.startswith("live: ")]
    assert live == [
        "live: none, live messages need Telegram (ntfy's other backends cannot edit a message); "
        "backends: recorder_backend"
    ], status


def test_a_lost_ending_edit_is_tried_again(kernel_home: Path, telegram, home: Path) -> None:
    """Telegram never answers the ending edit (it outlives the live steps' time limit): the
    ending is tried again, so the chat does not keep "⏳" after the run."""
    kernel_config(home, LIVE)
    telegram.lose_next("editMessageText", lambda fields: not str(fields.get("text", "")).startswith("⏳"))
    run_notebook(["import time\nfor i in range(5):\n    print('step', i)\n    time.sleep(1)"], kernel_home)
    from support.waiting import wait_until

    assert wait_until(lambda: telegram.lost and not any(t.startswith("⏳") for t in telegram.current.values()), 60), (
        telegram.lost,
        telegram.current,
    )
    assert len([send for send in telegram.sends() if send["disable_notification"] == "true"]) == 1


def test_an_ending_held_by_a_429_still_goes_out_after_the_kernel_exits(kernel_home: Path, telegram, home: Path) -> None:
    """A 429 on an edit near the run's end: the ending waits out `retry_after`, and a notebook run
    whose kernel exits meanwhile (Run All, then shut down) hands it on like a queued message."""
    import threading

    from support.waiting import wait_until

    kernel_config(home, LIVE)

    def refuse_after_the_first_edit() -> None:
        assert wait_until(lambda: telegram.changes(), 60)
        telegram.refuse_next("editMessageText", 4)

    threading.Thread(target=refuse_after_the_first_edit, daemon=True).start()
    run_notebook(["import time\nfor i in range(4):\n    print(f'step {i}')\n    time.sleep(1)"], kernel_home)
    assert wait_until(
        lambda: telegram.refused and not any(t.startswith("⏳") for t in telegram.current.values()), 30
    ), (
        telegram.refused,
        telegram.current,
    )
    [(_, refused_at)] = telegram.refused
    ending = telegram.changes()[-1]
    assert not ending["text"].startswith("⏳") and ending["at"] - refused_at >= 4 - 0.1, ending


@pytest.mark.parametrize("late", [0, 13])
def test_a_silent_send_answered_late_or_never_makes_no_second_live_message(
    kernel_home: Path, telegram, home: Path, late: float
) -> None:
    """The silent send outlives an edit's time limit (13 s) or is lost: the run never gets a second
    live message (a duplicate, the first left at "⏳"); one answered late still gets its ending."""
    from support.waiting import wait_until

    kernel_config(home, LIVE)
    telegram.lose_next("sendMessage", lambda fields: fields.get("disable_notification") == "true", late)
    run_notebook(["import time\nfor i in range(18):\n    print('step', i)\n    time.sleep(1)"], kernel_home)
    assert wait_until(lambda: any(t.startswith("✅") for t in telegram.texts()), 30), telegram.texts()
    assert telegram.lost
    silent = [send for send in telegram.sends() if send["disable_notification"] == "true"]
    assert len(silent) == (1 if late else 0), silent
    if late:
        wait_ended(telegram)
    assert not any(t.startswith("⏳") for t in telegram.current.values()), telegram.current


def test_turned_off_during_a_run_its_live_message_ends_at_once_saying_so(
    kernel_home: Path, telegram, home: Path
) -> None:
    """`%autonotify --off` inside a running cell whose run has a live message: the message is
    ended at once (not edited on until the cell ends), says when notifications were turned off,
    and the run gets no final message."""
    import threading

    from support.notebooks import open_kernel, stream_text
    from support.waiting import wait_until

    kernel_config(home, LIVE)
    go = home / "live-message-seen"

    def once_live() -> None:
        if wait_until(lambda: telegram.sends(), 60):
            go.touch()

    threading.Thread(target=once_live, daemon=True).start()
    with open_kernel(kernel_home) as execute:
        cell = execute(
            "import os, time\n"
            f"while not os.path.exists({str(go)!r}):\n    time.sleep(0.1)\n"
            "print('off at', time.time())\n"
            "get_ipython().run_line_magic('autonotify', '--off')\n"
            "for i in range(12):\n    print(f'step {i}')\n    time.sleep(0.5)\n"
            "print('end at', time.time())"
        )
    out = stream_text(cell)
    assert go.exists(), telegram.messages
    off_at = float(out.split("off at ")[1].split()[0])
    end_at = float(out.split("end at ")[1].split()[0])
    wait_ended(telegram)
    [silent] = telegram.sends()  # no final message
    assert silent["disable_notification"] == "true"
    ending = [change for change in telegram.changes() if not change["text"].startswith("⏳")]
    assert len(ending) == 1 and telegram.changes()[-1] is ending[-1], telegram.changes()
    assert off_at <= ending[0]["at"] < end_at, (off_at, ending[0]["at"], end_at)  # while the cell still ran
    assert ending[0]["text"].startswith("🔕 analysis.ipynb: notifications turned off after "), ending[0]["text"]
    assert ending[0]["text"].endswith(" s of this run")
    assert " 0.0 s " not in ending[0]["text"]


def test_a_live_message_still_queued_when_the_kernel_exits_is_not_sent(kernel_home: Path, telegram, home: Path) -> None:
    """Telegram slow (4 s an answer): the first cell's message holds the sender, the second cell's
    silent send waits behind it, and the notebook ends. The run's final message goes out from a child
    of its own; its live message, which only a running kernel could end, is not sent at all (it was:
    a ⏳ message after the ✅, never edited)."""
    from support.waiting import wait_until

    kernel_config(home, LIVE + "c.AutoNotify.per = 'cell'\n")
    telegram.delay = 4.0
    run_notebook(["import time; time.sleep(1.2)", "import time; time.sleep(2.5)"], kernel_home)
    assert wait_until(lambda: len([t for t in telegram.texts() if t.startswith("✅")]) == 2, 60), telegram.texts()
    time.sleep(6)  # (anything the detached child still had would be answered by now)
    assert not any(t.startswith("⏳") for t in telegram.current.values()), telegram.current
    assert [send for send in telegram.sends() if send["disable_notification"] == "true"] == []
