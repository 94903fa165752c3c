"""ActivityWatch rules from the project map: pure functions and the CLI."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from jupyter_helpers.activitywatch.rules import categories, portable_escape, query_snippet, title_regex

from conftest import cli


@pytest.mark.parametrize(
    "title, matches",
    [
        ("analysis - Alpha — Mozilla Firefox", True),
        ("analysis - Alpha - Google Chrome", True),
        ("analysis - Alpha and 2 more pages - Personal - Microsoft Edge", True),
        ("analysis - Alpha", True),
        ("analysis - ALPHA - Google Chrome", True),
        ("analysis - Alphabet — Mozilla Firefox", False),
        ("analysis - Alpha Beta - Google Chrome", False),
        ("Alpha - Google Chrome", False),
    ],
)
def test_rule_matches_the_suffix_only(title: str, matches: bool) -> None:
    assert bool(re.search(title_regex("Alpha"), title, re.IGNORECASE)) is matches


def test_rule_escapes_names_and_survives_query2() -> None:
    name = 'a.b (c) "d" [e] $f\\g'
    regex = title_regex(name)
    assert re.search(regex, f"x - {name} - Google Chrome")
    assert not re.search(regex, 'x - aXb (c) "d" [e] $f\\g - Google Chrome')
    assert '"' not in regex and "\\ " not in regex  # the Rust engine refuses an escaped space
    assert portable_escape("a-b") == "a\\-b"


def test_prefix_formats_anchor_at_the_start() -> None:
    assert title_regex("Alpha", "[{project}] {title}") == "^\\[Alpha\\] "


def test_categories_shape_for_aw_webui_import() -> None:
    assert categories(["Alpha"], ["Work", "Jupyter"]) == [
        {"name": ["Work"], "rule": {"type": "none"}},
        {"name": ["Work", "Jupyter"], "rule": {"type": "none"}},
        {
            "name": ["Work", "Jupyter", "Alpha"],
            "rule": {"type": "regex", "regex": title_regex("Alpha"), "ignore_case": True},
        },
    ]


def test_query_snippet_keeps_backslashes_single() -> None:
    snippet = query_snippet(["Alpha"], ["Work"])
    assert snippet == (
        'events = categorize(events, [[["Work", "Alpha"], {"type": "regex", "regex": '
        '" \\- Alpha(?: [-—–] | and \\d+ more pages?|$)", "ignore_case": true}]]);'
    )


def test_cli_export_to_file_warns_about_replacing(home: Path, tmp_path: Path) -> None:
    done = cli("activitywatch", "export", check=False)
    assert done.returncode == 2 and "no projects to export" in done.stderr
    cli("projects", "add", str(tmp_path / "alpha"), "Alpha")
    out = tmp_path / "categories.json"
    done = cli("activitywatch", "export", "--output", str(out), "--parent", "Work > Notebooks")
    assert "REPLACES all your current categories" in done.stderr
    names = [category["name"] for category in json.loads(out.read_text())["categories"]]
    assert names == [["Work"], ["Work", "Notebooks"], ["Work", "Notebooks", "Alpha"]]
    bad = cli("activitywatch", "export", "--parent", "Work >", check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "--parent 'Work >'" in bad.stderr


def test_export_never_overwrites_a_file_unless_asked(home: Path, tmp_path: Path) -> None:
    """`--output` onto an existing file replaced it silently (issue 16, F19): a user's own
    categories export is exactly the file one would keep beside it."""
    cli("projects", "add", str(tmp_path / "alpha"), "Alpha")
    mine = tmp_path / "mine.json"
    mine.write_text("my categories")
    done = cli("activitywatch", "export", "--output", str(mine), check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert f"{mine} exists" in done.stderr and "--force" in done.stderr
    assert mine.read_text() == "my categories"
    cli("activitywatch", "export", "--output", str(mine), "--force")
    assert "categories" in json.loads(mine.read_text())
