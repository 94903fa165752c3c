"""A death message's words (server/death_message.py): pure, no server."""

from __future__ import annotations

import pytest

from jupyter_helpers.common.memory import Reading
from jupyter_helpers.server.death_message import Death, cause, compose_death, what_happened

GB = 1024**3


@pytest.mark.parametrize(
    "returncode, oom, expected",
    [
        (-9, False, "SIGKILL: out of memory?"),
        (-9, True, "SIGKILL: out of memory"),
        (-9, "peak", "SIGKILL: out of memory; peak 7.0 GB of 7.1 GB"),
        (-11, False, "SIGSEGV"),
        (-15, True, "SIGTERM"),
        (3, False, "exit code 3"),
        (None, False, "exit status unknown"),
        (0, False, None),
    ],
)
def test_the_cause_in_words_under_a_memory_limit(returncode: int | None, oom: bool | str, expected: str | None) -> None:
    peak = Reading(int(7.0 * GB), int(7.1 * GB)) if oom == "peak" else None
    assert cause(returncode, bool(oom), peak, limited=True) == expected


@pytest.mark.parametrize(
    "oom, peak, expected",
    [
        (False, None, "SIGKILL"),
        # what the kernel would have seen: the machine's use (every process's), not its own
        (False, Reading(int(2.1 * GB), int(23.5 * GB)), "SIGKILL"),
        (True, Reading(int(2.1 * GB), int(23.5 * GB)), "SIGKILL: out of memory"),  # its cgroup counted one
    ],
)
def test_without_a_memory_limit_a_sigkill_says_only_what_is_known(
    oom: bool, peak: Reading | None, expected: str
) -> None:
    """No memory cgroup limit: `out of memory?; peak 2.1 GB of 23.5 GB` read as if the kernel had
    used 2.1 GB of 23.5 GB (hostile round): no question about memory, no machine-wide figure."""
    assert cause(-9, oom, peak, limited=False) == expected
    assert cause(-9, oom, peak) == expected  # no limit known: the same


@pytest.mark.parametrize(
    "busy_seconds, busy, cell, expected",
    [
        (75.0, True, 7, "died (SIGSEGV) after 1 min 15 s busy in cell [7]"),
        (None, True, 7, "died (SIGSEGV) while busy in cell [7]"),  # the server saw it busy, not since when
        (None, True, None, "died (SIGSEGV) while busy"),
        (None, False, 7, "died (SIGSEGV) while idle"),
    ],
)
def test_what_happened(busy_seconds: float | None, busy: bool, cell: int | None, expected: str) -> None:
    assert what_happened(Death("n.ipynb", None, "SIGSEGV", busy_seconds, cell, "h", busy)) == expected


def test_the_last_death_of_a_crash_loop_says_jupyter_gave_up() -> None:
    message, title = compose_death(
        Death("n.ipynb", "Alpha", "SIGKILL: out of memory?", None, None, "vm", given_up=True)
    )
    assert message.splitlines() == [
        "💀 n.ipynb (Alpha): kernel died (SIGKILL: out of memory?) while idle",
        "It kept dying as Jupyter restarted it, and Jupyter gave up: start a kernel from the notebook again.",
        "Host: vm",
    ]
    assert title == "n.ipynb (Alpha): kernel died (SIGKILL: out of memory?) while idle"
