"""Runs notebooks in a real ipykernel through nbclient, the way Jupyter does."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient


def make_notebook(sources: list[str]) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source) for source in sources])


def run_notebook(
    sources: list[str], workdir: Path, kernel_name: str = "python3", allow_errors: bool = True
) -> nbformat.NotebookNode:
    notebook = make_notebook(sources)
    client = NotebookClient(
        notebook,
        kernel_name=kernel_name,
        timeout=120,
        startup_timeout=120,
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute()
    return notebook


def stream_text(cell: nbformat.NotebookNode, name: str | None = None) -> str:
    return "".join(
        out.get("text", "") for out in cell.outputs if out.output_type == "stream" and name in (None, out.name)
    )


def error_names(cell: nbformat.NotebookNode) -> list[str]:
    return [out.ename for out in cell.outputs if out.output_type == "error"]
