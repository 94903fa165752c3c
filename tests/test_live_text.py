"""What a live message says (pure parts, and real tqdm bars read in this process)."""

from __future__ import annotations

import io

from jupyter_helpers.kernel.capture import PrintedTail
from jupyter_helpers.kernel.message import RunRecord, compose, compose_live, live_end, live_off, live_orphaned
from jupyter_helpers.kernel.progress import bar_line, describe


def test_the_live_text_names_notebook_project_cell_cells_done_and_elapsed() -> None:
    text = compose_live("train.ipynb", "Vision", 3, 2, 370.4, "epochs: 42% 21/50 it", "box")
    assert (
        text == "⏳ train.ipynb (Vision): cell [3] running, 2 cells done, 6 min 10 s\nepochs: 42% 21/50 it\nHost: box"
    )
    assert compose_live(None, None, None, 1, 4.2, None, "box") == "⏳ running, 1 cell done, 4.0 s\nHost: box"


def test_the_ending_is_the_final_message_first_line_and_never_starts_with_the_hourglass() -> None:
    record = RunRecord(notebook="a.ipynb", first_cell=1, last_cell=3, seconds=400.0, host="h", cells=3)
    assert live_end(record) == compose(record).splitlines()[0]
    assert live_end(record).startswith("✅ a.ipynb: cells [1]–[3] finished after ")
    stopped = RunRecord(notebook="a.ipynb", first_cell=1, last_cell=3, seconds=4.0, host="h", stopped="by SIGTERM")
    assert live_end(stopped).startswith("🛑 ")


def test_a_run_turned_off_or_whose_kernel_ended_before_its_id_came_says_so() -> None:
    assert (
        live_off("train.ipynb", "Vision", 370.4)
        == "🔕 train.ipynb (Vision): notifications turned off after 6 min 10 s of this run"
    )
    assert live_orphaned("train.ipynb", None) == "⏹ train.ipynb: the kernel ended during this run"


def test_a_bar_is_described_with_percent_count_rate_and_time_left() -> None:
    info = {"n": 21, "total": 50, "elapsed": 7.0, "rate": 3.0, "unit": "it", "prefix": "epochs: "}
    assert describe(info) == "epochs: 42% 21/50 it, 3 it/s, 10.0 s left"
    slow = {"n": 2, "total": 10, "elapsed": 600.0, "rate": None, "unit": "epoch", "prefix": ""}
    assert describe(slow) == "20% 2/10 epoch, 300 s/epoch, 40 min 00 s left"
    assert describe({"n": 7, "total": None, "elapsed": 0.0, "rate": None, "unit": "it"}) == "7 it"


def test_the_outermost_of_nested_real_tqdm_bars_is_shown() -> None:
    from tqdm import tqdm

    out = io.StringIO()
    assert bar_line() is None
    with tqdm(total=10, desc="epochs", file=out) as outer:
        outer.update(3)
        with tqdm(total=100, desc="batches", file=out, position=1) as inner:
            inner.update(50)
            line = bar_line()
        with tqdm(total=5, disable=True) as _:
            assert bar_line() is not None and bar_line().startswith("epochs: 30% 3/10 it")
    assert line is not None and line.startswith("epochs: 30% 3/10 it"), line
    assert bar_line() is None  # closed bars leave tqdm's set


def test_the_last_printed_line_is_cleaned_and_cut() -> None:
    tail = PrintedTail()
    assert tail.line(200) is None
    tail.last = "loss 0.3\r\x1b[1mloss 0.2\x1b[0m\n"
    assert tail.line(200) == "loss 0.2"
    tail.last = "x" * 500
    assert tail.line(10) == "x" * 9 + "…"


def test_the_last_line_is_whole_when_print_writes_it_in_pieces() -> None:
    """print("epoch", 3, "loss", 0.25) writes each argument and separator on its own: the live
    message shows the whole line, not its last piece; a 1 MB write keeps only its tail."""

    class Stream:  # stands for ipykernel's OutStream (only its module name matters here)
        written: list[str] = []

        def write(self, text: str) -> int:
            self.written.append(text)
            return len(text)

    Stream.__module__ = "ipykernel.iostream"
    stream, tail = Stream(), PrintedTail()
    tail.attach(stream)
    print("epoch", 3, "loss", 0.25, file=stream)
    assert tail.line(200) == "epoch 3 loss 0.25"
    stream.write("y" * 1_000_000 + "\nlast line\n")
    assert tail.line(200) == "last line" and len(tail.last or "") == PrintedTail.KEEP
    assert "".join(Stream.written).startswith("epoch 3 loss 0.25\n")  # the stream still gets every byte
    tail.detach()
