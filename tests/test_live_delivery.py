"""A live message's steps through real parts: the Sender, its warm delivery child, and Telegram's
Bot API (python-telegram-bot and httpx, with telegram.ini's credentials) to the fake Bot API,
which answers as Telegram does (400 "not modified", 400 "not found", 429)."""

from __future__ import annotations

import queue
import time
from pathlib import Path

from jupyter_helpers.common.sender import Outcome, Sender

from conftest import TOKEN
from support.waiting import wait_until


def step(sender: Sender, verb: str, text: str = "", message_id: int | None = None, backend: str = "") -> Outcome:
    """One live step and its outcome, as the kernel's LiveMessage gets it (on the worker thread)."""
    outcomes: queue.Queue[Outcome] = queue.Queue()
    sender.submit_live(verb, text, message_id, outcomes.put, backend)
    return outcomes.get(timeout=60)


def test_a_silent_send_returns_its_id_and_edits_and_delete_act_on_it(sender: Sender, telegram) -> None:
    sent = step(sender, "send", "⏳ first")
    assert sent.ok and sent.reply.message_id is not None
    message_id = sent.reply.message_id
    [silent] = telegram.sends()
    assert silent["text"] == "⏳ first" and silent["disable_notification"] == "true"
    edited = step(sender, "edit", "⏳ second", message_id)
    assert edited.ok and edited.reply.via == "telegram"
    assert telegram.current[message_id] == "⏳ second"
    unchanged = step(sender, "edit", "⏳ second", message_id)  # Telegram: 400 message is not modified
    assert unchanged.ok and unchanged.reply.via == "telegram (unchanged)"
    deleted = step(sender, "delete", "", message_id)
    assert deleted.ok and message_id not in telegram.current
    assert [change["path"].rsplit("/", 1)[1] for change in telegram.changes()] == ["editMessageText", "deleteMessage"]
    assert sender.take_warnings() == []  # nothing of this is shown under a cell
    assert sender.sent == 0  # live steps are not messages


def test_a_message_the_user_deleted_is_gone(sender: Sender, telegram) -> None:
    message_id = step(sender, "send", "⏳ first").reply.message_id
    telegram.user_deletes(message_id)
    edited = step(sender, "edit", "⏳ second", message_id)
    assert not edited.ok and edited.reply.gone
    assert step(sender, "delete", "", message_id).reply.gone


def test_a_429_gives_the_wait_and_the_token_never_shows(sender: Sender, telegram) -> None:
    message_id = step(sender, "send", "⏳ first").reply.message_id
    telegram.refuse_next("editMessageText", 7)
    refused = step(sender, "edit", "⏳ second", message_id)
    assert not refused.ok and refused.reply.retry_after == 7
    assert TOKEN not in refused.reason and "429" in refused.reason
    assert step(sender, "edit", "⏳ second", message_id).ok


def test_other_backends_cannot_edit(sender: Sender, telegram, recorder: Path) -> None:
    outcome = step(sender, "send", "⏳ first", backend="recorder_backend")
    assert not outcome.ok and outcome.reply.cannot
    assert "live messages need Telegram" in outcome.reason
    assert telegram.sends() == [] and not recorder.exists()


def test_a_final_message_goes_before_queued_live_steps_and_waits_for_a_hung_edit_only_to_its_limit(
    sender: Sender, telegram
) -> None:
    message_id = step(sender, "send", "⏳ first").reply.message_id
    outcomes: queue.Queue[Outcome] = queue.Queue()
    telegram.mode = "hang-once"  # the next request hangs: a queue forms behind it
    sender.timeout = 6
    sender.submit_live("edit", "⏳ stuck", message_id, outcomes.put)
    assert wait_until(lambda: telegram.calls[-1:] == ["editMessageText"], 30)  # in flight, hung
    sender.submit_live("edit", "⏳ queued edit", message_id, outcomes.put)
    submitted = time.time()
    sender.submit("✅ final", "t")
    assert sender.wait_idle(60)
    assert outcomes.get(timeout=1).ok  # the hung edit, tried again within its limit (delivery/live.py)
    assert telegram.texts()[-1] == "✅ final", sender.take_warnings()
    final = telegram.sends()[-1]
    assert final["at"] - submitted < 6 + 5  # waited for the edit in flight at most its limit (and a margin)
    assert [change["text"] for change in telegram.changes()] == ["⏳ stuck", "⏳ queued edit"]
    assert telegram.changes()[-1]["at"] > final["at"]  # the queued edit after the final message


def test_an_edit_lost_on_the_way_is_tried_again_within_its_limit(sender: Sender, telegram) -> None:
    """Telegram never answers one edit: the child tries it again before its limit (the kernel may
    have exited, so nobody else would), and a lost ending does not leave "⏳" in the chat."""
    message_id = step(sender, "send", "⏳ first").reply.message_id
    telegram.lose_next("editMessageText")
    assert step(sender, "edit", "✅ done", message_id).ok
    assert telegram.lost and telegram.current[message_id] == "✅ done"


def test_a_held_live_step_waits_and_is_handed_on_at_exit(sender: Sender, telegram) -> None:
    """A live step held by a 429 (`not_before`) waits in the sender, and at kernel exit goes to a
    child of its own that waits out the rest (delivery_protocol `wait`)."""
    message_id = step(sender, "send", "⏳ first").reply.message_id
    held_at = time.time()
    sender.submit_live("edit", "✅ done", message_id, lambda outcome: None, not_before=time.monotonic() + 3)
    sender.hand_off_pending()
    assert wait_until(lambda: telegram.current[message_id] == "✅ done", 30), telegram.current
    assert telegram.changes()[-1]["at"] - held_at >= 3 - 0.1
