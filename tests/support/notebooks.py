"""Runs notebooks in a real ipykernel through nbclient, the way Jupyter does."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def make_notebook(sources: list[str]) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])


def save_notebook(path: Path, sources: list[str] | None = None) -> None:
    """A notebook on disk as Jupyter saves one, naming the python3 kernel (so a server opens it
    without asking which kernel)."""
    notebook = make_notebook(["1 + 1"] if sources is None else sources)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)


def _client(notebook: nbformat.NotebookNode, workdir: Path, kernel_name: str, allow_errors: bool) -> NotebookClient:
    return NotebookClient(
        notebook,
        kernel_name=kernel_name,
        timeout=120,
        startup_timeout=120,
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(workdir)}},
    )


def run_notebook(
    sources: list[str], workdir: Path, kernel_name: str = "python3", allow_errors: bool = True
) -> nbformat.NotebookNode:
    """Run All: every cell right after the previous one, then the kernel shuts down."""
    notebook = make_notebook(sources)
    _client(notebook, workdir, kernel_name, allow_errors).execute()
    return notebook


@contextmanager
def open_kernel(workdir: Path, kernel_name: str = "python3") -> Iterator[Callable[[str], nbformat.NotebookNode]]:
    """A live kernel for tests that pause between cells (as a user does): yields `execute(source)`,
    which runs one cell and returns it with its outputs; the kernel shuts down on exit."""
    notebook = make_notebook([])
    client = _client(notebook, workdir, kernel_name, allow_errors=True)

    def execute(source: str) -> nbformat.NotebookNode:
        notebook.cells.append(nbformat.v4.new_code_cell(source))
        return client.execute_cell(notebook.cells[-1], len(notebook.cells) - 1)

    with client.setup_kernel():
        yield execute


def stream_text(cell: nbformat.NotebookNode, name: str | None = None) -> str:
    return "".join(
        out.get("text", "") for out in cell.outputs if out.output_type == "stream" and name in (None, out.name)
    )


def error_names(cell: nbformat.NotebookNode) -> list[str]:
    return [out.ename for out in cell.outputs if out.output_type == "error"]
