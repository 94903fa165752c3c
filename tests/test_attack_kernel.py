"""Hostile-but-plausible use of autonotify through real kernels and the real ntfy chain: odd
pictures, odd exceptions, extensions reloaded mid-run. Every message that should arrive arrives,
exactly once, and the kernel stays healthy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.images import png
from support.kernels import kernel_config, the_one
from support.notebooks import open_kernel, run_notebook, stream_text


def test_a_picture_telegram_refuses_still_lets_the_text_arrive(kernel_home: Path, telegram, home: Path) -> None:
    """A truncated PNG (a plot saved while the disk filled up) starts like a PNG, so it is attached;
    the Bot API refuses it, and the message must still reach the phone, as text."""
    kernel_config(home, "c.AutoNotify.after = 0.5\n")
    broken = png(30, 20, (9, 9, 9))[:-20]
    run_notebook(
        [
            f"from IPython.display import Image, display\nimport time\ndisplay(Image(data={broken!r}))\n"
            "time.sleep(0.6)\n'with-broken-picture'"
        ],
        kernel_home,
    )
    texts = telegram.wait_for(1)
    assert telegram.photos() == []
    message = the_one(texts, "with-broken-picture")
    assert message.startswith("✅ analysis.ipynb: cell [1] finished after ")
    assert "(picture left out: Telegram did not take it" in message, message  # the user learns why


def test_a_notebook_name_with_line_breaks_cannot_forge_lines_of_the_message(
    kernel_home: Path, telegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file name may hold a newline (or U+2028): on the phone it must stay in the first line,
    not start a line of its own that reads like the message's own `Host:` or `✅` line."""
    monkeypatch.setenv("JPY_SESSION_NAME", str(kernel_home / "ev\nil\u2028✅ done\t🚀.ipynb"))
    run_notebook(["%autonotify -a 0.5", "import time; time.sleep(0.6); 'fine'", "%notify " + "x" * 10_000], kernel_home)
    texts = telegram.wait_for(2)
    assert len(texts) == 2, texts
    run, note = the_one(texts, "finished after"), the_one(texts, "🔔")
    assert run.splitlines()[0].startswith("✅ ev il ✅ done 🚀.ipynb: cells [1]–[3] finished after "), run
    assert note.startswith("🔔 ev il ✅ done 🚀.ipynb: xxx") and note.endswith("x…"), note[:80]
    assert "\u2028" not in run + note


def test_a_threshold_out_of_range_is_a_usage_error_not_a_silent_minute(kernel_home: Path, telegram) -> None:
    """`%autonotify -a 99999999` (a user meaning "practically never") must not quietly become the
    60 s default and start notifying every minute: one line says what is accepted, nothing changes."""
    nb = run_notebook(["%autonotify -a 300", "%autonotify -a 99999999", "%autonotify --status"], kernel_home)
    assert stream_text(nb.cells[1]) == (
        "UsageError: argument -a/--after: seconds must be a number from 0 to 1e+07, got '99999999'\n"
    ), nb.cells[1].outputs
    assert "per run of 5 min 00 s or more" in stream_text(nb.cells[2]), stream_text(nb.cells[2])


def test_reinstalling_after_the_sender_environment_went_away_heals_a_running_kernel(
    kernel_home: Path, telegram, home: Path
) -> None:
    """The failure line says `run jupyter-helpers install again`; doing so must be enough: the
    open kernel picks up the newly recorded Python with its next message, without a restart."""
    record = home / ".ipython" / "profile_default" / "jupyter_helpers" / "installation.json"
    original = record.read_text()
    with open_kernel(kernel_home) as execute:
        record.write_text(json.dumps({**json.loads(original), "python": "/gone/env/bin/python"}))
        execute("%notify while-gone")
        gone = execute("import time; time.sleep(1)")
        record.write_text(original)  # what `jupyter-helpers install` from a working environment records
        execute("%notify after-reinstall")
        healed = execute("time.sleep(3)")
    assert "%notify not sent: cannot run /gone/env/bin/python" in stream_text(gone), stream_text(gone)
    assert "%notify sent via telegram" in stream_text(healed), stream_text(healed)
    the_one(telegram.wait_for(1), "after-reinstall")
