"""The death message's words: how a kernel ended (`cause`), what it was doing (`what_happened`),
and the message and title a death sends (`compose_death`). Pure: the watcher (server/deaths.py)
gathers the facts."""

from __future__ import annotations

import signal
from dataclasses import dataclass

from ..common.memory import Reading, amount
from ..common.text import TELEGRAM_LIMIT, clean, headline, human_duration


def cause(
    returncode: int | None, out_of_memory: bool, peak: Reading | None = None, limited: bool = False
) -> str | None:
    """How the kernel ended, in words; None for exit code 0 (the kernel ended itself on purpose,
    e.g. `exit()` in a cell). A SIGKILL of a kernel whose memory cgroup has a limit (`limited`)
    names memory and the peak the kernel saw against that limit, when it recorded one
    (kernel/memory.py): `SIGKILL: out of memory; peak 7.0 GB of 7.1 GB`. Without a limit nothing
    known ties it to the kernel's memory (the machine's use is every process's): plain `SIGKILL`,
    or `SIGKILL: out of memory` when its cgroup counted an OOM kill all the same."""
    if returncode is None:
        return "exit status unknown"
    if returncode == 0:
        return None
    if returncode > 0:
        return f"exit code {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    if -returncode == signal.SIGKILL and (limited or out_of_memory):
        peak_seen = f"; peak {amount(peak)}" if peak is not None and limited else ""
        return f"{name}: out of memory" + ("" if out_of_memory else "?") + peak_seen
    return name


@dataclass(frozen=True)
class Death:
    notebook: str | None
    project: str | None
    cause: str
    busy_seconds: float | None  # None: idle, or busy since a time not known (see `busy`)
    cell: int | None
    host: str
    busy: bool = False  # the server saw it busy, though not since when (its IOPub was followed late)
    given_up: bool = False  # it kept dying while restarting, and Jupyter stopped restarting it


def what_happened(death: Death) -> str:
    """`died (SIGKILL: out of memory?) after 1 h 12 min busy in cell [7]` / `... while idle`."""
    if death.busy_seconds is not None:
        when = f"after {human_duration(death.busy_seconds)} busy"
    else:
        when = "while busy" if death.busy else "while idle"
    if (death.busy_seconds is not None or death.busy) and death.cell is not None:
        when += f" in cell [{death.cell}]"
    return f"died ({death.cause}) {when}"


def compose_death(death: Death) -> tuple[str, str]:
    """(message, title): `💀 train.ipynb (Project Alpha): kernel died (SIGKILL: out of memory?)
    after 1 h 12 min busy in cell [7]`, then what Jupyter does and the host."""
    head = headline(death.notebook, death.project, f"kernel {what_happened(death)}")
    then = (
        "It kept dying as Jupyter restarted it, and Jupyter gave up: start a kernel from the notebook again."
        if death.given_up
        else "Jupyter restarts it; its variables are gone."
    )
    text = f"💀 {head}\n{then}\nHost: {death.host}"
    return clean(text, TELEGRAM_LIMIT), clean(head, 256)
