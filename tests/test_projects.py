"""The folder -> project map: pure decisions, and the CLI that edits it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from jupyter_helpers.common.projects import ProjectMap, ProjectMapError, ProjectStore, validate

from conftest import cli, run_cli

MAP = ProjectMap({"/w/alpha": "Project Alpha", "/w/alpha/deep": "Deep", "/w": "Work", "/w/alphabet": "Alphabet"})


@pytest.mark.parametrize(
    "path, project",
    [
        ("/w/alpha", "Project Alpha"),
        ("/w/alpha/x.ipynb", "Project Alpha"),
        ("/w/alpha/deep/y", "Deep"),
        ("/w/alphabet/z", "Alphabet"),
        ("/w/other", "Work"),
        ("/elsewhere", None),
    ],
)
def test_deepest_folder_wins(path: str, project: str | None) -> None:
    assert MAP.resolve(path) == project


def test_server_view_for_a_root_inside_and_above_mapped_folders() -> None:
    assert MAP.server_view("/w") == {
        "default": "Work",
        "prefixes": [["alpha/deep", "Deep"], ["alphabet", "Alphabet"], ["alpha", "Project Alpha"]],
    }
    assert MAP.server_view("/w/alpha/deep/sub") == {"default": "Deep", "prefixes": []}
    assert ProjectMap().server_view("/home/me/lab") == {"default": "lab", "prefixes": []}
    assert ProjectMap().server_view("/home/me/lab", unmapped="none") == {"default": None, "prefixes": []}


@pytest.mark.parametrize(
    "raw, message",
    [
        ([], 'expected {"folders"'),
        ({"folders": {"/a": 3}}, "project name for '/a' must be a non-empty string"),
        ({"folders": {"rel/dir": "X"}}, "folder 'rel/dir' must be an absolute path"),
    ],
)
def test_malformed_map_names_the_entry(raw: object, message: str) -> None:
    with pytest.raises(ProjectMapError, match=message.replace("(", r"\(").replace("{", r"\{")) as caught:
        validate(raw, "projects.json")
    assert str(caught.value).startswith("projects.json: ")


def test_cli_add_list_which_remove(home: Path, tmp_path: Path) -> None:
    alpha = tmp_path / "work" / "alpha"
    alpha.mkdir(parents=True)
    assert cli("projects", "add", str(alpha), "Project Alpha").stdout.splitlines() == [
        f"{alpha} -> Project Alpha (saved in {home / '.jupyter' / 'jupyter_helpers_projects.json'})"
    ]
    beta = tmp_path / "work" / "beta"  # not made yet: mapped all the same, with a note
    assert cli("projects", "add", str(beta), "Project Beta").stdout.splitlines()[1:] == [
        f"note: {beta} does not exist yet; its notebooks get the project once it does"
    ]
    assert cli("projects", "list").stdout.splitlines() == [
        f"{alpha} -> Project Alpha",
        f"{tmp_path / 'work' / 'beta'} -> Project Beta",
    ]
    assert cli("projects", "which", str(alpha / "sub" / "a.ipynb")).stdout == "Project Alpha\n"
    assert cli("projects", "which", str(tmp_path)).stdout == "(no project)\n"
    cli("projects", "remove", str(alpha))
    assert json.loads((home / ".jupyter" / "jupyter_helpers_projects.json").read_text()) == {
        "folders": {str(tmp_path / "work" / "beta"): "Project Beta"}
    }
    done = cli("projects", "remove", str(alpha), check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "is not in" in done.stderr


def test_cli_reports_a_broken_map_file_in_one_line(home: Path) -> None:
    (home / ".jupyter").mkdir()
    (home / ".jupyter" / "jupyter_helpers_projects.json").write_text('{"folders": {"/a": "A",}}')
    done = cli("projects", "list", check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "jupyter_helpers_projects.json is not valid JSON" in done.stderr


# -- names enter the map normalised; the file keeps what we do not know -------------------------


@pytest.mark.parametrize(
    "typed, stored",
    [("Two  Spaces", "Two Spaces"), ("Tab\there", "Tab here"), ("  New\nline  ", "New line"), ("Émile 🚀", "Émile 🚀")],
)
def test_names_are_normalised_when_added(home: Path, tmp_path: Path, typed: str, stored: str) -> None:
    out = cli("projects", "add", str(tmp_path), typed).stdout
    assert out.startswith(f"{tmp_path} -> {stored} (saved in ")
    saved = json.loads((home / ".jupyter" / "jupyter_helpers_projects.json").read_text())
    assert saved == {"folders": {str(tmp_path): stored}}


@pytest.mark.parametrize("name", ["bell\x07", "esc\x1b[31m", "nul\x7f", "c1\x9b", "rtl\u202eevil"])
def test_control_characters_in_names_are_refused(home: Path, tmp_path: Path, name: str) -> None:
    done = cli("projects", "add", str(tmp_path), name, check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "contains the control character" in done.stderr
    assert not (home / ".jupyter" / "jupyter_helpers_projects.json").exists()


def test_a_hand_written_name_with_odd_whitespace_loads_normalised() -> None:
    assert validate({"folders": {"/w": " A\t\tB "}}, "m").folders == {"/w": "A B"}


def test_add_keeps_unknown_keys_and_other_spellings(home: Path, tmp_path: Path) -> None:
    map_file = home / ".jupyter" / "jupyter_helpers_projects.json"
    map_file.parent.mkdir()
    map_file.write_text(json.dumps({"version": 7, "comment": "mine", "folders": {"~/notes": "Notes"}}))
    cli("projects", "add", str(tmp_path / "a"), "A")
    assert json.loads(map_file.read_text()) == {
        "version": 7,
        "comment": "mine",
        "folders": {str(tmp_path / "a"): "A", "~/notes": "Notes"},
    }
    cli("projects", "remove", str(home / "notes"))
    assert json.loads(map_file.read_text())["folders"] == {str(tmp_path / "a"): "A"}


UNREADABLE = [
    (b'{"folders": {"/a": "\xff\xfe"}}', "is not UTF-8 text"),
    (b"[" * 100000 + b"]" * 100000, "nested too deeply"),
]


@pytest.mark.parametrize("content, message", UNREADABLE)
def test_unreadable_map_files_are_one_line_everywhere(home: Path, content: bytes, message: str) -> None:
    map_file = home / ".jupyter" / "jupyter_helpers_projects.json"
    map_file.parent.mkdir()
    map_file.write_bytes(content)
    for command in (["projects", "list"], ["projects", "add", "/x", "X"], ["activitywatch", "export"]):
        done = cli(*command, check=False)
        assert done.returncode == 2 and done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
    assert map_file.read_bytes() == content
    with pytest.raises(ProjectMapError, match=message):  # what the server extension calls (titles.py)
        ProjectStore(map_file).load()


@pytest.mark.parametrize("content, message", UNREADABLE)
def test_status_names_an_unreadable_map_file_in_one_line(home: Path, content: bytes, message: str) -> None:
    """`status` probes the delivery child and the `jupyter` on PATH: the installed command."""
    map_file = home / ".jupyter" / "jupyter_helpers_projects.json"
    map_file.parent.mkdir()
    map_file.write_bytes(content)
    status = run_cli("status", check=False)
    assert "Traceback" not in status.stderr
    lines = [line for line in status.stdout.splitlines() if message in line]
    assert len(lines) == 1 and lines[0].startswith(f"ERR  {map_file} "), status.stdout
    assert map_file.read_bytes() == content


def test_a_folder_name_that_is_not_utf8_is_one_line_and_keeps_the_map(home: Path) -> None:
    store = home / ".jupyter" / "jupyter_helpers_projects.json"
    cli("projects", "add", "/work/alpha", "Alpha")
    before = store.read_bytes()
    folder = b"/work/caf\xe9".decode("utf-8", "surrogateescape")  # a Latin-1 name, as `ls` shows it
    done = cli("projects", "add", folder, "Cafe", check=False)
    assert "Traceback" not in done.stderr
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "not UTF-8" in done.stderr
    assert store.read_bytes() == before


@pytest.mark.parametrize("folder", ["f\nnl", "tab\tbed", "cr\rx", "ls\u2028x", "esc\x1b[31m"])
def test_a_folder_with_a_line_break_or_control_character_is_refused(home: Path, tmp_path: Path, folder: str) -> None:
    """`projects list` prints one folder per line: a folder with a newline would read as two
    (issue 16, F19)."""
    done = cli("projects", "add", str(tmp_path / folder), "NL", check=False)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "line break or control character" in done.stderr and "\x1b" not in done.stderr
    assert not (home / ".jupyter" / "jupyter_helpers_projects.json").exists()


def test_a_dangling_lock_symlink_is_refused_and_creates_nothing_elsewhere(home: Path, tmp_path: Path) -> None:
    """A `.lock` symlink must not be followed: it created a file wherever it pointed (F15)."""
    config = home / ".jupyter"
    config.mkdir()
    lock = config / ".jupyter_helpers_projects.json.lock"
    lock.symlink_to(tmp_path / "created-elsewhere")
    done = cli("projects", "add", str(tmp_path / "a"), "A", check=False)
    assert not (tmp_path / "created-elsewhere").exists()
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert f"{lock} is a symbolic link" in done.stderr and "remove it" in done.stderr
    lock.unlink()
    cli("projects", "add", str(tmp_path / "a"), "A")
