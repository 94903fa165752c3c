"""Helpers shared by the kernel-side notification tests (real kernels, real ntfy chain)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from conftest import run_cli

MARKER = "%notify end-of-notebook"
WATCHER = (
    "[cb.__self__ for cb in get_ipython().events.callbacks['post_run_cell']"
    " if type(cb.__self__).__name__ == 'RunWatcher'][0]"
)


def wall_time(cell) -> float:
    """Seconds from the kernel starting the cell to its reply, as nbclient recorded them."""
    timing = cell.metadata.execution
    started, replied = (
        datetime.fromisoformat(timing[key].replace("Z", "+00:00"))
        for key in ("iopub.execute_input", "shell.execute_reply")
    )
    return (replied - started).total_seconds()


def the_one(texts: list[str], needle: str) -> str:
    """Messages may arrive in any order (the last ones are handed off at kernel exit)."""
    matching = [text for text in texts if needle in text]
    assert len(matching) == 1, (needle, texts)
    return matching[0]


def kernel_config(home: Path, text: str) -> None:
    """The documented way to configure autonotify: the profile's ipython_kernel_config.py."""
    (home / ".ipython" / "profile_default" / "ipython_kernel_config.py").write_text(text)


def prepare_kernel_home(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Installs into the isolated home with the real CLI; returns the notebook's folder, with
    JPY_SESSION_NAME set as jupyter_server sets it for a notebook named analysis.ipynb."""
    run_cli("install")
    workdir = home / "work" / "alpha"
    workdir.mkdir(parents=True)
    monkeypatch.setenv("JPY_SESSION_NAME", str(workdir / "analysis.ipynb"))
    return workdir
