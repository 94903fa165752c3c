"""The pure halves of presence: the kernel's decision, the server's report parsing, and where files go."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from jupyter_helpers.common.presence import STALE_AFTER, decide, presence_file, read_presence, write_private_json
from jupyter_helpers.server.presence import BadReport, parse_report

NOW = 1_000_000.0
KERNEL = "0b5c6c2e-8a3b-4c47-9d5e-2f1a7e6b9c10"


def page(**changes) -> dict:
    return {
        "page": "p1",
        "focused": True,
        "visible": True,
        "closed": False,
        "reported": NOW - 2,
        "last_input": NOW - 3,
        **changes,
    }


def test_a_focused_page_with_fresh_input_holds_messages() -> None:
    verdict = decide({"pages": [page()]}, NOW, present_for=120)
    assert verdict.looking
    assert verdict.reason == "notebook page focused, last input 3 s ago: phone messages held"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"focused": False}, "notebook page open but focus is elsewhere: phone messages sent"),
        ({"visible": False}, "notebook page hidden: phone messages sent"),
        ({"closed": True}, "notebook page closed: phone messages sent"),
        ({"last_input": NOW - 121}, "notebook page focused, no input for 2 min: phone messages sent"),
        ({"last_input": None}, "notebook page focused, no input yet: phone messages sent"),
        ({"reported": NOW - STALE_AFTER - 1}, "notebook page silent for 31 s: phone messages sent"),
        ({"reported": NOW + 60}, "notebook page silent for 0 s: phone messages sent"),
        ({"focused": "yes"}, "notebook page open but focus is elsewhere: phone messages sent"),
        ({"reported": "soon"}, "notebook page silent: phone messages sent"),
    ],
)
def test_anything_short_of_looking_sends(changes: dict, reason: str) -> None:
    verdict = decide({"pages": [page(**changes)]}, NOW, present_for=120)
    assert not verdict.looking and verdict.reason == reason


def test_no_file_or_no_pages_sends_and_one_looking_page_of_several_holds() -> None:
    assert not decide(None, NOW, 120).looking
    assert decide({"pages": []}, NOW, 120).reason == "no notebook page is open: phone messages sent"
    assert decide({"pages": [page(closed=True), page(page="p2")]}, NOW, 120).looking
    assert not decide({"pages": [page(focused=False), page(page="p2", closed=True)]}, NOW, 120).looking


def test_present_for_is_the_input_window() -> None:
    assert decide({"pages": [page(last_input=NOW - 30)]}, NOW, present_for=60).looking
    assert not decide({"pages": [page(last_input=NOW - 30)]}, NOW, present_for=10).looking


def test_presence_file_names_only_canonical_kernel_ids(tmp_path: Path) -> None:
    assert presence_file(tmp_path, KERNEL) == tmp_path / "jupyter-helpers-presence" / f"{KERNEL}.json"
    for bad in ["../../etc/passwd", KERNEL.upper(), KERNEL.replace("-", ""), f"{KERNEL}/x", ""]:
        with pytest.raises(ValueError):
            presence_file(tmp_path, bad)


def test_written_files_are_private_and_unreadable_ones_mean_away(tmp_path: Path) -> None:
    path = presence_file(tmp_path, KERNEL)
    write_private_json(path, {"kernel": KERNEL, "pages": [page()]})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert read_presence(path)["pages"] == [page()]
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind
    for content in ["{", "[]", '{"pages": 3}', json.dumps({"pages": [0]}) + " " * 70000]:
        path.write_text(content)
        assert read_presence(path) is None or not decide(read_presence(path), NOW, 120).looking
    assert read_presence(tmp_path / "missing.json") is None and read_presence(None) is None


def test_reports_are_parsed_field_by_field() -> None:
    report = parse_report(
        json.dumps(
            {"page": "abc12345", "seq": 3, "path": "/alpha/a.ipynb/", "focused": True, "visible": True, "idle": 2.5}
        ).encode()
    )
    assert (report.seq, report.path, report.focused, report.visible, report.idle, report.closing) == (
        3,
        "alpha/a.ipynb",
        True,
        True,
        2.5,
        False,
    )
    assert parse_report(b'{"page": "abc12345", "seq": 0, "path": "", "idle": null, "closing": true}').closing


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[1]",
        b"\xff",
        b" " * 9000,
        b'{"page": "short", "seq": 1, "path": ""}',
        b'{"page": "abc12345<>", "seq": 1, "path": ""}',
        b'{"page": "abc12345", "path": ""}',
        b'{"page": "abc12345", "seq": -1, "path": ""}',
        b'{"page": "abc12345", "seq": 1.5, "path": ""}',
        b'{"page": "abc12345", "seq": true, "path": ""}',
        b'{"page": "abc12345", "seq": 1, "path": 1}',
        b'{"page": "abc12345", "seq": 1, "path": "a\\u0000b"}',
        b'{"page": "abc12345", "seq": 1, "path": "", "focused": 1}',
        b'{"page": "abc12345", "seq": 1, "path": "", "idle": true}',
        b'{"page": "abc12345", "seq": 1, "path": "", "idle": -1}',
        b'{"page": "abc12345", "seq": 1, "path": "", "idle": 1e999}',
    ],
)
def test_malformed_reports_are_refused_with_a_reason(body: bytes) -> None:
    with pytest.raises(BadReport):
        parse_report(body)


def test_status_line_outside_a_jupyter_kernel() -> None:
    """This test process is no kernel started by a Jupyter server: it always sends."""
    from jupyter_helpers.kernel.presence import status_line

    assert status_line("always", 120) == "presence: not consulted (--when always): phone messages sent"
    assert status_line("away", 120) == (
        "presence (--when away, input within 120 s): kernel not started by a Jupyter server: phone messages sent"
    )
