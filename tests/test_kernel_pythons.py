"""The startup file loads the kernel runtime into kernels of other environments, whatever their
Python: a kernel in every Python the machine has (pyenv's, 3.9 on), set up as users set one up
(a venv with ipykernel, a kernelspec), with the startup file the product's own `install` put in
the profile, runs a long cell and its message reaches the fake Bot API with the notebook's name."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from support.kernels import kernel_config
from support.notebooks import run_notebook, stream_text
from support.pythons import OLDEST, kernel_pythons, pyenv_versions, register_kernel

PYTHONS = kernel_pythons()
NONE_HERE = (
    f"no Python {'.'.join(map(str, OLDEST))}+ under $(pyenv root)/versions "
    f"({pyenv_versions() or 'no pyenv'}): install some with `pyenv install 3.9 3.13`"
)


@pytest.mark.parametrize("version", sorted(PYTHONS) or [pytest.param(None, marks=pytest.mark.skip(reason=NONE_HERE))])
def test_a_kernel_of_every_python_sends_with_the_notebook_name(
    version: str, ipykernel_venv: Callable[[Path], Path], kernel_home: Path, telegram, home: Path
) -> None:
    python = ipykernel_venv(PYTHONS[version])
    kernel = register_kernel(python, f"python-{version}", Path(os.environ["JUPYTER_DATA_DIR"]))
    kernel_config(home, "c.AutoNotify.after = 0.5\nc.AutoNotify.per = 'cell'\n")
    nb = run_notebook(["import sys, time; time.sleep(1); print(sys.version.split()[0])"], kernel_home, kernel)
    assert stream_text(nb.cells[0]).strip() == version, nb.cells[0].outputs
    texts = telegram.wait_for(1, timeout=60)
    assert len(texts) == 1 and texts[0].startswith("✅ analysis.ipynb: cell [1] finished after 1."), texts
