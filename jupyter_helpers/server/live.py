"""A dead kernel's live message, ended by the server: the kernel cannot, and a "⏳ running"
message must not stay behind on the phone.

At a kernel's death (server/deaths.py's restart callback) the kernel's live record
(common/live_record.py) names the Telegram message; it is edited to the 💀 state through the same
delivery child as the death message (queued behind it: common/sender.py puts messages before
live steps), and the record is removed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..common.delivery_protocol import EDIT
from ..common.live_record import live_file, read_live, remove_live
from ..common.text import headline, human_duration


def dead_text(notebook: str | None, project: str | None, seconds: float) -> str:
    """`💀 train.ipynb (Project Alpha): the kernel died after 6 min 10 s of this run`."""
    return "💀 " + headline(notebook, project, f"the kernel died after {human_duration(round(seconds))} of this run")


def end_live_message(folder: Path, kernel_id: str, sender: Callable[[], Any], log: Any, after: Any) -> None:
    """Ends the dead kernel's live message, if it had one (read now, on the server's loop: one
    small file), once `after` (the task that sends the death message) is done, so that the
    death message comes first, as a new message."""
    try:
        path = live_file(folder, kernel_id)
    except ValueError:
        return
    record = read_live(path)
    if record is None:
        return
    remove_live(path)
    text = dead_text(record["notebook"], record["project"], time.time() - record["started"])

    def replied(outcome: Any) -> None:
        if not outcome.ok and not (outcome.reply is not None and outcome.reply.gone):
            log.warning("jupyter-helpers: could not end kernel %s's live message: %s", kernel_id, outcome.reason)

    after.add_done_callback(
        lambda _: sender().submit_live(EDIT, text, record["message_id"], replied, record["backend"])
    )
    log.info("jupyter-helpers: kernel %s died during a run; its live message is ended", kernel_id)
