"""A live message's steps, in the delivery child: send it silently, edit it, delete it.

ntfy's Telegram backend can only send, so these go to the Bot API directly through the same
stack a photo takes (telegram-send's config reader, python-telegram-bot, httpx) with the
credentials of telegram.ini; other backends cannot edit and say so. Telegram's answers become the
reply's fields: 400 "message is not modified" is a success (nothing to change), 400 "message to
edit not found" (or "to delete") means the user deleted it (`gone`), 429 gives `retry_after`.
Reasons never carry the bot token (send.py redacts every reason).
"""

from __future__ import annotations

from typing import Any

from ..common.delivery_protocol import DELETE, EDIT, Reply, Request
from ..common.sender import usable_timeout
from ..common.text import TELEGRAM_LIMIT, clean
from .channel import ChannelError, backends, check_telegram_credentials, load_ntfy_config

# An edit or delete Telegram does not answer in time is tried again within the request's limit
# (the ending must not be lost, and the kernel may have exited: nobody else would try again).
STEP_TRIES = 3
CANNOT = "live messages need Telegram (ntfy's other backends cannot edit a message)"


def can_edit(requested_backend: str) -> str | None:
    """None when Telegram is among the backends of this request, else why not."""
    try:
        chosen = backends(dict(load_ntfy_config()), requested_backend)
        if "telegram" not in chosen:
            return f"{CANNOT}; backends: {', '.join(chosen)}"
        check_telegram_credentials()
    except ChannelError as exc:
        return str(exc)
    return None


def live_step(request: Request) -> Reply:
    """One step of a live message; raises only for what send.py turns into a failed reply."""
    refused = can_edit(request.backend)
    if refused is not None:
        return Reply(False, reason=refused, cannot=True)
    import asyncio

    try:
        message_id = asyncio.run(_call(request))
    except Exception as exc:
        return _answer(exc)
    return Reply(True, via="telegram", message_id=message_id)


async def _call(request: Request) -> int | None:
    import telegram
    import telegram_send.telegram_send
    from ntfy.backends.telegram import config_file

    settings = telegram_send.telegram_send.get_config_settings(config_file)
    message_id = int(request.message_id or 0)
    bot = telegram.Bot(settings.token)
    text = clean(request.text, TELEGRAM_LIMIT)
    if request.verb in (EDIT, DELETE):
        await _change(bot, request.verb, settings.chat_id, message_id, text, usable_timeout(request.limit))
        return message_id
    # the whole limit for Telegram's answer (python-telegram-bot's default is 5 s): a send whose
    # answer is not awaited leaves a message whose id nobody knows, which stays "⏳"
    wait = max(1.0, usable_timeout(request.limit) - 2.0)
    sent = await bot.send_message(settings.chat_id, text, disable_notification=True, read_timeout=wait)
    return int(sent.message_id)


async def _change(bot: Any, verb: str, chat_id: Any, message_id: int, text: str, limit: float) -> None:
    """The edit or delete, tried STEP_TRIES times within `limit` while Telegram does not answer
    (an edit carried out late and repeated is "not modified": a success)."""
    import asyncio

    from telegram.error import TimedOut

    each = max(1.0, (limit - 1.0) / STEP_TRIES)
    for attempt in range(STEP_TRIES):
        if verb == EDIT:
            step = bot.edit_message_text(text, chat_id=chat_id, message_id=message_id)
        else:
            step = bot.delete_message(chat_id=chat_id, message_id=message_id)
        try:
            await asyncio.wait_for(step, each)
            return
        except (TimeoutError, TimedOut):
            if attempt == STEP_TRIES - 1:
                raise


def _answer(error: Exception) -> Reply:
    """Telegram's refusals as a reply (python-telegram-bot's errors carry its description)."""
    description = str(error)
    lowered = description.lower()
    retry_after: Any = getattr(error, "retry_after", None)
    if retry_after is not None:
        seconds = retry_after.total_seconds() if hasattr(retry_after, "total_seconds") else float(retry_after)
        return Reply(False, reason=f"Telegram asked to wait {seconds:g} s (429)", retry_after=seconds)
    if "message is not modified" in lowered:
        return Reply(True, via="telegram (unchanged)")
    if "message to edit not found" in lowered or "message to delete not found" in lowered:
        return Reply(False, reason="the message was deleted", gone=True)
    return Reply(False, reason=f"Telegram did not take it: {type(error).__name__}: {description}")
