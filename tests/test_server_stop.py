"""A Jupyter server stopped while a cell runs (SIGTERM, Ctrl-C twice in its terminal): Jupyter
interrupts its kernels and shuts them down, and the phone must hear that the server stopped the
cell (not that the cell failed with KeyboardInterrupt), the live message must end, and no record of
the server's kernels may stay in the runtime dir, while another server's kernels keep theirs.
Real servers, real kernels, the fake Bot API; conftest's live_site and the kernel-death tests'
kernel."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from test_kernel_deaths import Kernel

from support.cgroups import memory_limited_cgroup
from support.fake_telegram import FakeTelegram
from support.jupyter_server import JupyterServer
from support.waiting import wait_until

EPOCHS = "import time\nfor epoch in range(1000):\n    print(f'epoch {epoch}')\n    time.sleep(0.2)"
RECORDS = ("jupyter-helpers-live", "jupyter-helpers-memory", "jupyter-helpers-presence", "jupyter-helpers-shutdown")
HEAD = "🛑 train.ipynb (Project Alpha): cell [1] stopped as the Jupyter server shut down after "


def records(runtime: Path, kernel_id: str) -> list[str]:
    """The folders holding a record of the kernel."""
    return [folder for folder in RECORDS if (runtime / folder / f"{kernel_id}.json").exists()]


def running_live(kernel: Kernel, fake: FakeTelegram, runtime: Path, *kept: str, code: str = EPOCHS) -> None:
    """Starts a long cell and returns once its live message was sent and its live record (and
    the records named in `kept`) exist."""
    kernel.run(code)
    expected = {"jupyter-helpers-live", *kept}
    assert wait_until(lambda: expected <= set(records(runtime, kernel.id)), 60), (
        records(runtime, kernel.id),
        fake.messages,
    )


# a cell that ignores the interrupt: Jupyter sends the kernel SIGTERM when it has not ended 2.5 s
# after being asked to (jupyter_client's shutdown_wait_time), and the kernel's handler says the same
DEAF = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"


@pytest.mark.parametrize("cell", ["interrupted", "ignoring the interrupt"])
def test_a_server_stopped_with_sigterm_mid_run_says_so_and_ends_the_live_message(live_site: dict, cell: str) -> None:
    fake: FakeTelegram = live_site["fake"]
    runtime = live_site["runtime"]
    server = JupyterServer("notebook", live_site["work"], live_site["env"], live_site["base"] / "server.log")
    try:
        idle = Kernel(server, runtime, "beta/idle.ipynb")  # its cell ended: nothing to say at shutdown
        idle.execute("x = 1")
        kernel = Kernel(server, runtime, "alpha/train.ipynb")
        running_live(kernel, fake, runtime, code=(DEAF if cell.startswith("ignoring") else "") + EPOCHS)
        # no memory cgroup limit here: the machine's use is every process's, so no peak is kept
        assert records(runtime, kernel.id) == ["jupyter-helpers-live"]
        for each in (idle, kernel):
            each.client.stop_channels()
        server.process.send_signal(signal.SIGTERM)
        server.process.wait(timeout=60)
    finally:
        server.stop()
    final = stopped_message(fake)
    assert "Stopped in cell [1]" in final and "KeyboardInterrupt" not in final, final
    ended = wait_until(lambda: [c["text"] for c in fake.changes() if not c["text"].startswith("⏳")], 30)
    assert ended and ended[-1].startswith(HEAD) and "\n" not in ended[-1], fake.changes()
    assert fake.changes()[-1]["text"] == ended[-1]  # nothing edits it after
    assert records(runtime, kernel.id) == records(runtime, idle.id) == []


def stopped_message(fake: FakeTelegram) -> str:
    """The one message (not a silent live one) that arrived: the stopped run's."""
    final = wait_until(lambda: [s["text"] for s in fake.sends() if s["disable_notification"] != "true"], 30)
    assert len(final) == 1 and final[0].startswith(HEAD), fake.messages
    return final[0]


def report_page(server: JupyterServer, path: str, page: str) -> None:
    """A page of the notebook reports (away), as the presence script does: a presence record."""
    report = {"page": page, "seq": 1, "path": path, "focused": False, "visible": True}
    assert server.api("jupyter-helpers/presence", "POST", report)[0] == 204


def test_a_server_stopped_leaves_no_records_of_its_kernels_and_another_servers_stay(live_site: dict) -> None:
    """Two servers of one user share the runtime dir. One runs in a memory cgroup with a limit
    (as on a hub or in a container), so its kernel records its memory peak too; Ctrl-C twice in its
    terminal stops it with a live run. The other's kernel, running its own, keeps its records."""
    fake: FakeTelegram = live_site["fake"]
    runtime = live_site["runtime"]
    other = JupyterServer("notebook", live_site["work"], live_site["env"], live_site["base"] / "other.log")
    try:
        kept = Kernel(other, runtime, "alpha/other.ipynb")
        running_live(kept, fake, runtime)
        report_page(other, "alpha/other.ipynb", "pOther0001")
        with memory_limited_cgroup(2 * 1024**3) as cgroup:
            server = JupyterServer(
                "notebook",
                live_site["work"],
                live_site["env"],
                live_site["base"] / "server.log",
                wrapper=cgroup.joining(),
                terminal=True,
            )
            try:
                kernel = Kernel(server, runtime, "alpha/train.ipynb")
                running_live(kernel, fake, runtime, "jupyter-helpers-memory")
                report_page(server, "alpha/train.ipynb", "pStopped01")
                kernel.client.stop_channels()
                server.interrupt()
            finally:
                server.stop()
        assert records(runtime, kernel.id) == []
        assert records(runtime, kept.id) == ["jupyter-helpers-live", "jupyter-helpers-presence"]
        assert (runtime / f"kernel-{kept.id}.json").exists()
        stopped_message(fake)  # Ctrl-C twice, as SIGTERM
        kept.close()
    finally:
        other.stop()
