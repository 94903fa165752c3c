"""The files kept per kernel in the runtime dir (server/records.py, common/shutdown.py): the
server's shutdown notice as kernels read it, and the sweep that leaves no record of a kernel that
is gone while a running kernel (of any server sharing the folder) keeps its own. The real servers
stopping are in test_server_stop.py."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from jupyter_helpers.common.shutdown import announced, shutdown_file
from jupyter_helpers.server.records import RECORD_DIRS, announce_shutdown, sweep


def test_a_notice_the_server_wrote_is_read_and_one_planted_in_an_open_folder_is_not(tmp_path: Path) -> None:
    told, untold = str(uuid.uuid4()), str(uuid.uuid4())
    announce_shutdown(tmp_path, [told, "../../etc/passwd"], logging.getLogger("test"))
    assert announced(shutdown_file(tmp_path, told))
    assert not announced(shutdown_file(tmp_path, untold)) and not announced(None)
    assert [path.name for path in (tmp_path / "jupyter-helpers-shutdown").iterdir()] == [f"{told}.json"]
    (tmp_path / "jupyter-helpers-shutdown").chmod(0o777)  # another user could have written it
    assert not announced(shutdown_file(tmp_path, told))


def test_the_sweep_removes_the_records_of_kernels_gone_and_keeps_those_of_running_ones(tmp_path: Path) -> None:
    gone, running = str(uuid.uuid4()), str(uuid.uuid4())
    (tmp_path / f"kernel-{running}.json").write_text("{}")  # a kernel runs while its connection file exists
    for name in RECORD_DIRS:
        (tmp_path / name).mkdir(mode=0o700)
        for kernel in (gone, running):
            (tmp_path / name / f"{kernel}.json").write_text("{}")
    sweep(tmp_path)
    for name in RECORD_DIRS:
        assert [path.name for path in (tmp_path / name).iterdir()] == [f"{running}.json"], name


def test_the_sweep_leaves_a_folder_others_could_use_alone(tmp_path: Path) -> None:
    """Not ours to judge (the presence rules: such a folder is refused, not read or written)."""
    folder = tmp_path / "jupyter-helpers-live"
    folder.mkdir(mode=0o700)
    record = folder / f"{uuid.uuid4()}.json"
    record.write_text("{}")
    folder.chmod(0o777)
    sweep(tmp_path)
    assert record.exists()
    sweep(tmp_path / "missing")  # no runtime dir yet: nothing to do, no error
