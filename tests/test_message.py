"""The notification text: pure functions, tested directly."""

from __future__ import annotations

import pytest

from jupyter_helpers.notify.message import (
    TELEGRAM_LIMIT,
    CellRecord,
    clean,
    compose,
    describe_error,
    human_duration,
    safe_excerpt,
)


@pytest.mark.parametrize(
    "seconds, text",
    [(0.04, "0.0 s"), (4.24, "4.2 s"), (59.9, "59.9 s"), (60, "1 min 00 s"), (125, "2 min 05 s"),
     (3723, "1 h 02 min 03 s"), (86400, "24 h 00 min 00 s")],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def test_compose_success_failure_and_note() -> None:
    base = dict(notebook="analysis.ipynb", cell_number=12, seconds=125.2, host="box")
    assert compose(CellRecord(**base, excerpt="42", note="check the plots")) == (
        "✅ analysis.ipynb: cell [12] finished after 2 min 05 s\ncheck the plots\nResult: 42\nHost: box"
    )
    assert compose(CellRecord(**base, error="ValueError: boom")) == (
        "❌ analysis.ipynb: cell [12] failed after 2 min 05 s\nError: ValueError: boom\nHost: box"
    )
    no_name = CellRecord(notebook=None, cell_number=None, seconds=1, host="h")
    assert compose(no_name).splitlines()[0] == "✅ IPython: cell finished after 1.0 s"


def test_message_never_exceeds_telegram_limit() -> None:
    huge = CellRecord(notebook="n", cell_number=1, seconds=1, host="h", note="x" * 10_000, excerpt="y" * 10_000)
    text = compose(huge)
    assert len(text) == TELEGRAM_LIMIT and text.endswith("…")


def test_excerpt_is_short_and_survives_broken_repr() -> None:
    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no repr for you")

    assert safe_excerpt(Broken(), 200).startswith("<Broken instance at 0x")
    assert len(safe_excerpt(list(range(10**6)), 50)) <= 50
    assert safe_excerpt("\x1b[31mred", 50) == "'\\x1b[31mred'"  # repr escapes it: printable, inert


def test_error_description_and_cleaning() -> None:
    assert describe_error(ValueError("boom"), 100) == "ValueError: boom"
    assert describe_error(KeyboardInterrupt(), 100) == "KeyboardInterrupt"
    assert clean("abcdef", 4) == "abc…"
    assert clean("\x1b[31mred\x1b[0m\x07 line\nnext\t", 50) == "red line\nnext"
