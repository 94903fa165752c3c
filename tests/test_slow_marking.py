"""Slow is marked by what a test reaches, and a test marked fast cannot start a process
(tests/support/slow.py, tests/conftest.py): the fast loop stays in-process without anyone keeping
a list."""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_helpers.common.sender import Sender
from jupyter_helpers.common.text import clean

import conftest
from support import kernels, notebooks
from support.jupyter_server import JupyterServer, in_process_config, open_session
from support.slow import Reach


def pure(text: str) -> str:
    return clean(text).upper()


def calls_a_helper_that_installs(home: Path) -> Path:
    return kernels.prepare_kernel_home(home, pytest.MonkeyPatch())


@pytest.mark.parametrize(
    "reached, slow",
    [
        (conftest.run_cli, True),  # subprocess.run
        (calls_a_helper_that_installs, True),  # two helpers deep, then run_cli
        (notebooks.run_notebook, True),  # a kernel through nbclient
        (conftest.kernel_home, True),  # a fixture whose helper is imported inside it
        (JupyterServer, True),  # a class: its methods start the server
        (Sender, True),  # the product's sender: its warm child, imported lazily and relatively
        (open_session, True),  # a kernel through a server's REST API: declared by @starts_a_process
        (conftest.cli, False),  # the CLI in-process: what it starts depends on the command (the guard)
        (in_process_config, False),
        (pure, False),
    ],
)
def test_what_a_test_reaches_decides_whether_it_is_slow(reached: object, slow: bool) -> None:
    assert Reach().starts_processes(reached) is slow


def test_the_guard_stops_a_process_a_test_not_marked_slow_starts(home: Path) -> None:
    """`status` in-process probes the delivery child: the marking cannot see that, the guard does."""
    with pytest.raises(AssertionError, match="starts a process but is not marked slow"):
        conftest.cli("status")


def test_these_tests_are_in_the_fast_loop(request: pytest.FixtureRequest) -> None:
    assert request.node.get_closest_marker("slow") is None
