"""Which notebook a kernel runs: nbconvert's and papermill's command lines parsed by their rules,
then real `jupyter nbconvert --execute` runs whose messages must name the right notebook."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import nbformat
import pytest

from jupyter_helpers.kernel.names import (
    NBCONVERT_FLAGS,
    Launch,
    executed_notebook,
    expand_patterns,
    nbconvert_patterns,
    papermill_input,
    tool_arguments,
)

from conftest import BIN
from support.notebooks import make_notebook


def test_flag_list_matches_the_installed_nbconvert() -> None:
    from nbconvert.nbconvertapp import NbConvertApp

    app = NbConvertApp()
    flags = {name for name in app.flags if isinstance(name, str)}
    assert flags <= NBCONVERT_FLAGS
    assert not flags & {name for name in app.aliases if isinstance(name, str)} - {"sanitize-html"}


@pytest.mark.parametrize(
    "args, patterns",
    [
        (["--to", "notebook", "--execute", "first.ipynb", "second.ipynb"], ["first.ipynb", "second.ipynb"]),
        (["--output", "copy.ipynb", "--execute", "x.ipynb"], ["x.ipynb"]),
        (["--execute", "--output=copy.ipynb", "x.ipynb"], ["x.ipynb"]),
        (["--ExecutePreprocessor.timeout", "600", "--to=html", "a.ipynb"], ["a.ipynb"]),
        (["--template", "lab", "--allow-errors", "-y", "a.ipynb"], ["a.ipynb"]),
        (["--output-dir", "out", "--inplace", "--", "--odd.ipynb"], ["--odd.ipynb"]),
        (["--execute", "--stdin"], None),
    ],
)
def test_nbconvert_patterns_follow_traitlets_rules(args: list[str], patterns: list[str] | None) -> None:
    assert nbconvert_patterns(args) == patterns


def test_nbconvert_patterns_agree_with_nbconvert_itself() -> None:
    from nbconvert.nbconvertapp import NbConvertApp

    args = [
        "--to",
        "notebook",
        "--output",
        "copy",
        "--TagRemovePreprocessor.remove_cell_tags",
        "x",
        "--execute",
        "--log-level=10",
        "--sanitize_html",
        "no",
        "a.ipynb",
        "b.ipynb",
    ]
    app = NbConvertApp()
    app.parse_command_line(args)
    assert nbconvert_patterns(args) == app.extra_args == ["a.ipynb", "b.ipynb"]


@pytest.mark.parametrize(
    "args, notebook",
    [
        (["input.ipynb", "output.ipynb", "-p", "alpha", "0.6"], "input.ipynb"),
        (["-p", "alpha", "0.6", "-k", "python3", "in.ipynb", "out.ipynb"], "in.ipynb"),
        (["--cwd", "/data", "--log-output", "-kpython3", "--parameters_file=p.yaml", "in.ipynb", "out"], "in.ipynb"),
        (["-", "out.ipynb"], None),
        (["--", "in.ipynb", "out.ipynb"], "in.ipynb"),
    ],
)
def test_papermill_input(args: list[str], notebook: str | None) -> None:
    assert papermill_input(args) == notebook


@pytest.mark.parametrize(
    "argv, found",
    [
        (
            ["/v/bin/python", "/v/bin/jupyter-nbconvert", "--execute", "a.ipynb"],
            ("nbconvert", ["--execute", "a.ipynb"]),
        ),
        (["python", "-m", "nbconvert", "a.ipynb"], ("nbconvert", ["a.ipynb"])),
        (["/v/bin/python", "/v/bin/papermill", "a.ipynb", "b.ipynb"], ("papermill", ["a.ipynb", "b.ipynb"])),
        (["/v/bin/python", "/v/bin/jupyter-lab"], None),
        (["bash"], None),
    ],
)
def test_tool_arguments(argv: list[str], found) -> None:
    assert tool_arguments(argv) == found


def test_expand_patterns_like_nbconvert(tmp_path: Path) -> None:
    for name in ("b.ipynb", "a.ipynb", "c.txt"):
        (tmp_path / name).write_text("{}")
    assert expand_patterns(["b", "*.ipynb", "missing.ipynb"], str(tmp_path)) == ["b.ipynb", "a.ipynb"]


def test_executed_notebook_uses_position_and_checks_the_folder(tmp_path: Path) -> None:
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    here = str(tmp_path)
    launch = Launch("nbconvert", ("first.ipynb", "second.ipynb"), here, 1, here)
    assert executed_notebook(launch) == os.path.join(here, "second.ipynb")
    unknown = Launch("nbconvert", ("first.ipynb", "second.ipynb"), here, None, here)
    assert executed_notebook(unknown) is None  # same folder, no position: say nothing
    apart = Launch("nbconvert", ("one/a.ipynb", "two/b.ipynb"), here, None, str(tmp_path / "two"))
    assert executed_notebook(apart) == os.path.join(here, "two/b.ipynb")
    wrong_place = Launch("nbconvert", ("one/a.ipynb", "two/b.ipynb"), here, 0, str(tmp_path / "two"))
    assert executed_notebook(wrong_place) == os.path.join(here, "two/b.ipynb")


def _nbconvert(workdir: Path, *args: str) -> None:
    subprocess.run(
        [str(BIN / "jupyter"), "nbconvert", *args], cwd=workdir, check=True, capture_output=True, timeout=180
    )


def _notebook(path: Path, label: str) -> None:
    nbformat.write(make_notebook(["%autonotify -a 0.3", f"import time; time.sleep(0.4); '{label}'"]), path)


def test_nbconvert_with_two_notebooks_names_each(kernel_home: Path, telegram, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JPY_SESSION_NAME")
    _notebook(kernel_home / "first.ipynb", "from first")
    _notebook(kernel_home / "second.ipynb", "from second")
    _nbconvert(kernel_home, "--to", "notebook", "--execute", "first.ipynb", "second.ipynb")
    texts = telegram.wait_for(2)
    assert len(texts) == 2, texts
    first = [text for text in texts if "'from first'" in text]
    second = [text for text in texts if "'from second'" in text]
    assert first and first[0].startswith("✅ first.ipynb: cells [1]–[2]"), texts
    assert second and second[0].startswith("✅ second.ipynb: cells [1]–[2]"), texts


def test_nbconvert_output_option_is_not_the_notebook(
    kernel_home: Path, telegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JPY_SESSION_NAME")
    _notebook(kernel_home / "x.ipynb", "from x")
    _nbconvert(kernel_home, "--to", "notebook", "--output", "copy.ipynb", "--execute", "x.ipynb")
    texts = telegram.wait_for(1)
    assert len(texts) == 1 and texts[0].startswith("✅ x.ipynb: cells [1]–[2]"), texts


def test_papermill_names_its_input_notebook(kernel_home: Path, telegram, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("JPY_SESSION_NAME")
    _notebook(kernel_home / "input.ipynb", "from papermill")
    command = [str(BIN / "papermill"), "-k", "python3", "-l", "python", "input.ipynb", "output.ipynb", "-p", "a", "1"]
    subprocess.run(command, cwd=kernel_home, check=True, capture_output=True, timeout=180)
    texts = telegram.wait_for(1)
    # papermill adds a cell with the parameters
    assert len(texts) == 1 and texts[0].startswith("✅ input.ipynb: cells [1]–[3]"), texts


def test_kernel_order_is_counted_per_nbconvert_process_and_a_loose_folder_is_not_trusted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tempfile

    from jupyter_helpers.kernel.names import _claim_position

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    inputs = ["first.ipynb", "second.ipynb"]
    assert _claim_position(inputs, "100-5") == (inputs, 0)
    assert _claim_position(["first.ipynb", "second.ipynb", "first.nbconvert.ipynb"], "100-5") == (inputs, 1)
    assert _claim_position(inputs, "101-7") == (inputs, 0)  # another nbconvert process counts on its own
    folder = tmp_path / f"jupyter-helpers-{os.getuid()}"
    assert not (folder / "nbconvert-100-5.json").exists()  # the last kernel removed the state
    folder.chmod(0o777)
    assert _claim_position(inputs, "102-9") == (inputs, None)
