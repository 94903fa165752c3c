"""%autonotify end to end: a real kernel (nbclient + ipykernel) with the startup file installed by
the real CLI, sending through the real ntfy/Telegram chain to the fake Telegram service."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from conftest import BIN, TOKEN
from support.kernels import MARKER, WATCHER, kernel_config, the_one, wall_time
from support.notebooks import error_names, make_notebook, run_notebook, stream_text


def test_per_cell_mode_sends_one_message_per_long_cell(kernel_home: Path, telegram) -> None:
    nb = run_notebook(
        [
            "%autonotify -a 0.5 --per cell -m 'check the plots'",
            "import time; time.sleep(0.7); 6 * 7",
            "time.sleep(0.7); raise ValueError('boom')",
            "time.sleep(0.1); 'short'",
            MARKER,
        ],
        kernel_home,
    )
    texts = telegram.wait_for(3)
    assert len(texts) == 3, texts
    ok, failed = the_one(texts, "cell [2]"), the_one(texts, "cell [3]")
    assert ok.startswith("✅ analysis.ipynb: cell [2] finished after ")
    assert ok.splitlines()[1:] == ["check the plots", "Result: 42", f"Host: {socket.gethostname()}"]
    assert failed.startswith("❌ analysis.ipynb: cell [3] failed after ")
    assert "Error in cell [3]: ValueError: boom" in failed
    the_one(texts, "end-of-notebook")
    assert error_names(nb.cells[2]) == ["ValueError"]
    assert all(message["path"] == f"/bot{TOKEN}/sendMessage" for message in telegram.messages)


def test_nbconvert_run_names_its_notebook_and_reports_the_last_run(
    kernel_home: Path, telegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No Jupyter server, so no JPY_SESSION_NAME: the name comes from nbconvert's command line,
    and the run's message still goes out although the kernel stops right after its last cell."""
    monkeypatch.delenv("JPY_SESSION_NAME")
    notebook = make_notebook(["%autonotify -a 1", "import time; time.sleep(0.7)", "time.sleep(0.7); 'last cell'"])
    nbformat.write(notebook, kernel_home / "overnight.ipynb")
    subprocess.run(
        [str(BIN / "jupyter"), "nbconvert", "--to", "notebook", "--execute", "overnight.ipynb"],
        cwd=kernel_home,
        check=True,
        capture_output=True,
        timeout=120,
    )
    texts = telegram.wait_for(1)
    assert len(texts) == 1 and texts[0].startswith("✅ overnight.ipynb: cells [1]–[3] finished after "), texts
    assert "Result: 'last cell'" in texts[0]


def test_autonotify_is_on_by_default_and_off_stops_it(kernel_home: Path, telegram, home: Path) -> None:
    kernel_config(home, "c.AutoNotify.after = 0.5\nc.AutoNotify.per = 'cell'\n")  # the documented way
    run_notebook(
        [
            "import time; time.sleep(0.7); 'default-on'",
            "%autonotify --off",
            "time.sleep(0.7); 'while-off'",
            MARKER,
        ],
        kernel_home,
    )
    texts = telegram.wait_for(2)
    assert len(texts) == 2, texts
    the_one(texts, "default-on")
    the_one(texts, "end-of-notebook")


def test_bad_arguments_give_one_usage_error_and_keep_settings(kernel_home: Path, telegram) -> None:
    nb = run_notebook(
        [
            "%autonotify -a -5",
            "%autonotify -a abc",
            "%autonotify -a '-inf'",
            '%autonotify -m "unbalanced',
            "%autonotify --status",
        ],
        kernel_home,
    )
    negative, word, quoted, unbalanced = (stream_text(cell, "stderr") for cell in nb.cells[:4])
    assert negative == "UsageError: argument -a/--after: seconds must be a number from 0 to 1e+07, got '-5'\n"
    assert word == "UsageError: argument -a/--after: expected a number of seconds, got 'abc' (e.g. -a 120)\n"
    assert quoted == "UsageError: argument -a/--after: seconds must be a number from 0 to 1e+07, got '-inf'\n"
    assert unbalanced == (
        'UsageError: %autonotify: a quote is not closed in \'-m "unbalanced\'; close it, e.g. -m "Training done"\n'
    ), nb.cells[3].outputs
    assert "autonotify: on, one message per run of 1 min 00 s or more (--per run;" in stream_text(nb.cells[4])


def test_off_with_status_turns_off_and_shows_it(kernel_home: Path, telegram) -> None:
    nb = run_notebook(["%autonotify --off --status"], kernel_home)
    assert stream_text(nb.cells[0]).startswith("autonotify: off\n"), nb.cells[0].outputs


def test_reload_ext_keeps_exactly_one_set_of_callbacks(kernel_home: Path, telegram) -> None:
    nb = run_notebook(
        [
            "%reload_ext jupyter_helpers\n%reload_ext jupyter_helpers\n%autonotify -a 0.5 --per cell",
            "import time; time.sleep(0.7); 'once'",
            "print(sum(type(getattr(cb, '__self__', None)).__name__ == 'RunWatcher'"
            " for cb in get_ipython().events.callbacks['post_run_cell']))\n"
            "pub = get_ipython().display_pub\n"  # one wrapper around the class's own method, not a stack
            "print(pub.publish.__closure__[0].cell_contents.__func__ is type(pub).publish)",
            MARKER,
        ],
        kernel_home,
    )
    assert stream_text(nb.cells[2]).split() == ["1", "True"]
    texts = telegram.wait_for(2)
    assert len(texts) == 2
    the_one(texts, "'once'")


@pytest.mark.parametrize("mode, reason", [("unauthorized", "rejected the bot token"), ("hang", "no answer within 3 s")])
def test_failing_channel_warns_once_and_never_delays_cells(
    kernel_home: Path, telegram, home: Path, mode: str, reason: str
) -> None:
    kernel_config(home, "c.AutoNotify.send_timeout = 3\n")
    telegram.mode = mode
    nb = run_notebook(
        [
            "%autonotify -a 0.5 --per cell",
            "import time; time.sleep(0.6); 'first'",
            "time.sleep(0.2)",
            "time.sleep(0.6); 'second failure of the same kind'",
            f"{WATCHER}.wait_idle(20)",
            "print(1 + 1)",
        ],
        kernel_home,
    )
    # the hung or failing send (limit 3 s) costs the next cell nothing: its 0.2 s, well under the limit
    assert wall_time(nb.cells[2]) < 3 / 2
    warnings = "".join(stream_text(cell, "stderr") for cell in nb.cells)
    lines = [line for line in warnings.splitlines() if "notification not sent" in line]
    assert len(lines) == 1, warnings
    assert reason in lines[0]
    assert TOKEN not in warnings and TOKEN.split(":")[1] not in warnings
    assert stream_text(nb.cells[-1]).strip() == "2"  # the kernel is alive and well


def test_missing_credentials_warn_how_to_fix_without_prompting(kernel_home: Path, telegram, home: Path) -> None:
    (home / ".config" / "ntfy" / "telegram.ini").unlink()
    nb = run_notebook(["%autonotify -a 0 --per cell", "import time; time.sleep(4)", "print('alive')"], kernel_home)
    warnings = "".join(stream_text(cell, "stderr") for cell in nb.cells)
    assert "Telegram credentials missing (token, chat_id)" in warnings
    assert "telegram.ini" in warnings
    assert stream_text(nb.cells[-1]).strip() == "alive"
    assert telegram.texts() == []


@pytest.fixture(scope="session")
def bare_kernel_python(ipykernel_venv: Callable[[Path], Path]) -> Path:
    """A second virtual environment of this Python with only ipykernel: no jupyter-helpers, no ntfy."""
    return ipykernel_venv(Path(sys.base_prefix) / "bin" / "python3")


def test_kernel_from_another_venv_without_ntfy_still_delivers(
    kernel_home: Path, telegram, home: Path, bare_kernel_python: Path
) -> None:
    probe = subprocess.run(
        [
            str(bare_kernel_python),
            "-c",
            "import importlib.util as u; print(u.find_spec('ntfy'), u.find_spec('jupyter_helpers'))",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=kernel_home,
    )
    assert probe.stdout.split() == ["None", "None"]
    kernels = Path(os.environ["JUPYTER_DATA_DIR"]) / "kernels"
    subprocess.run(
        [
            str(bare_kernel_python),
            "-m",
            "ipykernel",
            "install",
            "--name",
            "bare",
            "--prefix",
            str(kernels.parent.parent.parent),
        ],
        check=True,
        capture_output=True,
    )
    assert (kernels / "bare" / "kernel.json").exists()
    nb = run_notebook(
        ["%autonotify -a 0.5 --per cell", "import sys, time; time.sleep(0.7); sys.executable", MARKER],
        kernel_home,
        kernel_name="bare",
    )
    assert str(bare_kernel_python.parent) in "".join(str(out.get("data", "")) for out in nb.cells[1].outputs)
    texts = telegram.wait_for(2)
    assert len(texts) == 2
    the_one(texts, str(bare_kernel_python.parent))


@pytest.mark.parametrize("chosen_by", ["magic", "ntfy.yml"])
def test_another_ntfy_backend_by_magic_or_ntfy_config(
    kernel_home: Path, telegram, home: Path, recorder: Path, chosen_by: str
) -> None:
    if chosen_by == "ntfy.yml":
        (home / ".config" / "ntfy" / "ntfy.yml").write_text("backends: [recorder_backend]\n")
    magic = "%autonotify -a 0.5 --per cell" + (" --backend recorder_backend" if chosen_by == "magic" else "")
    run_notebook(
        [magic, "import time; time.sleep(0.6); 'via recorder'", f"%autonotify --off\n{WATCHER}.wait_idle(30)"],
        kernel_home,
    )
    received = recorder.read_text().split("\n===\n")[:-1]
    assert len(received) == 1
    title, text = received[0].split("|", 1)
    assert re.fullmatch(r"analysis\.ipynb: cell \[2\] finished after \d\.\d s", title), title
    assert text.startswith("✅ analysis.ipynb: cell [2]") and "Result: 'via recorder'" in text
    assert telegram.texts() == []
