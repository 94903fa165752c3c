"""The notification text: pure functions, tested directly."""

from __future__ import annotations

import pytest

from jupyter_helpers.common.text import (
    TELEGRAM_LIMIT,
    clean,
    cut,
    human_duration,
    sanitize,
    utf16_length,
    with_note,
)
from jupyter_helpers.kernel.message import RunRecord, compose, compose_note, describe_error, title


@pytest.mark.parametrize(
    "seconds, text",
    [
        (0.04, "0.0 s"),
        (4.24, "4.2 s"),
        (59.9, "59.9 s"),
        (60, "1 min 00 s"),
        (125, "2 min 05 s"),
        (3723, "1 h 02 min 03 s"),
        (86400, "24 h 00 min 00 s"),
    ],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def test_run_message_names_notebook_project_cells_time_longest_and_result() -> None:
    record = RunRecord(
        notebook="analysis.ipynb",
        project="Project Alpha",
        first_cell=2,
        last_cell=5,
        seconds=250.4,
        host="box",
        cells=4,
        longest_cell=3,
        longest_seconds=121.0,
        excerpt="42",
        note="check the plots",
    )
    assert compose(record) == (
        "✅ analysis.ipynb (Project Alpha): cells [2]–[5] finished after 4 min 10 s\n"
        "Longest: cell [3], 2 min 01 s\ncheck the plots\nResult: 42\nHost: box"
    )
    assert title(record) == "analysis.ipynb (Project Alpha): cells [2]–[5] finished after 4 min 10 s"


def test_failed_run_and_single_cell_and_unknown_notebook() -> None:
    failed = RunRecord(
        notebook="analysis.ipynb",
        first_cell=2,
        last_cell=3,
        seconds=3.14,
        host="box",
        cells=2,
        longest_cell=2,
        longest_seconds=2.0,
        error="ValueError: boom",
        excerpt="ignored",
    )
    assert compose(failed) == (
        "❌ analysis.ipynb: cells [2]–[3] failed after 3.1 s\nLongest: cell [2], 2.0 s\n"
        "Error in cell [3]: ValueError: boom\nHost: box"
    )
    one = RunRecord(notebook="n.ipynb", first_cell=7, last_cell=7, seconds=61, host="h", longest_cell=7)
    assert compose(one) == "✅ n.ipynb: cell [7] finished after 1 min 01 s\nHost: h"
    nameless = RunRecord(notebook=None, first_cell=1, last_cell=1, seconds=1, host="h")
    assert compose(nameless).splitlines()[0] == "✅ Cell [1] finished after 1.0 s"


def test_notify_note_text() -> None:
    text, head = compose_note("Training \u202edone", "a.ipynb", "Alpha", "box")
    assert text == "🔔 a.ipynb (Alpha): Training done\nHost: box"
    assert head == "a.ipynb (Alpha): Training done"


@pytest.mark.parametrize(
    "raw, shown",
    [
        ("\x1b[31mred\x1b[0m", "red"),  # 7-bit CSI
        ("a\x9b31mb\x9b0m", "ab"),  # 8-bit CSI, payload included
        ("x\x1b]0;fake title\x07y", "xy"),  # OSC ended by BEL
        ("x\x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\y", "xlinky"),  # OSC 8 hyperlink, ST
        ("x\x9d0;title\x9cy", "xy"),  # 8-bit OSC and ST
        ("x\x1b]0;never ends", "x"),  # unterminated OSC swallows the rest, as a terminal would
        ("x\x1bPqdata\x1b\\y", "xy"),  # DCS
        ("pay\u202eusd001\u202c", "payusd001"),  # bidi override
        ("a\u2066b\u2069c\u200fd\u061ce", "abcde"),  # isolates and marks
        ("z\u200bw\u200dj\u2060\ufeffx", "zwjx"),  # zero-width characters and BOM
        ("bell\x07 cr\r c1\x85 del\x7f", "bell cr c1 del"),
        ("caf\udce9.ipynb", "caf\ufffd.ipynb"),  # undecodable byte from a file name
    ],
)
def test_sanitize(raw: str, shown: str) -> None:
    assert sanitize(raw) == shown
    sanitize(raw).encode("utf-8")  # always sendable


def test_cut_counts_utf16_code_units_like_telegram() -> None:
    assert utf16_length("a😀") == 3
    emoji = "😀" * 3000  # 6000 code units
    text = cut(emoji, TELEGRAM_LIMIT)
    assert utf16_length(text) <= TELEGRAM_LIMIT and text.endswith("…")
    assert text[:-1] == "😀" * 2047  # 4094 units + the ellipsis; no half emoji
    assert cut("😀😀", 4) == "😀😀" and cut("😀😀😀", 4) == "😀…"
    assert clean("abcdef", 4) == "abc…"


def test_message_never_exceeds_telegram_limit_in_utf16() -> None:
    huge = RunRecord(
        notebook="n", first_cell=1, last_cell=1, seconds=1, host="h", note="x" * 10_000, excerpt="🎉" * 10_000
    )
    assert utf16_length(compose(huge)) == TELEGRAM_LIMIT
    emoji_only = RunRecord(notebook="n", first_cell=1, last_cell=1, seconds=1, host="h", excerpt="🎉" * 3000)
    assert utf16_length(compose(emoji_only)) <= TELEGRAM_LIMIT


def test_surrogate_notebook_name_still_composes_sendable_text() -> None:
    record = RunRecord(notebook="r\udcffsultats.ipynb", first_cell=1, last_cell=1, seconds=2, host="h")
    compose(record).encode("utf-8")
    title(record).encode("utf-8")


def test_error_description() -> None:
    assert describe_error(ValueError("boom"), 100) == "ValueError: boom"
    assert describe_error(KeyboardInterrupt(), 100) == "KeyboardInterrupt"

    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError

    assert describe_error(Unprintable(), 100) == "Unprintable"


def test_a_note_always_fits_the_cut_text() -> None:
    assert with_note("short", "(note)") == "short\n(note)"
    long = with_note("😀" * 3000, "(picture left out)")
    assert utf16_length(long) <= TELEGRAM_LIMIT and long.endswith("…\n(picture left out)")
