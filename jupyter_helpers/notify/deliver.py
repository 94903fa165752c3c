"""`python -m jupyter_helpers.notify.deliver FILE`: the child process that hands one message to ntfy.

FILE holds {"text", "title", "backend"} as JSON; it is deleted once read. Standard input is
/dev/null, so a prompt (ntfy's Telegram setup calls input()) ends at once instead of hanging.
Exit 0 when ntfy delivered; otherwise one line on stderr saying what failed, with the bot token
redacted, and a non-zero exit code.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path

from .channel import ChannelError, backends, check_telegram_credentials, load_ntfy_config, telegram_token

_TOKEN_SHAPE = re.compile(r"\d{4,}:[A-Za-z0-9_-]{20,}")


class _LastError(logging.Handler):
    """Keeps the last error ntfy logged instead of printing a traceback with the token in it."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.record: logging.LogRecord | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.record = record


def _reason(record: logging.LogRecord | None) -> str:
    if record is None:
        return "ntfy reported a failure without details"
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        name = type(error).__name__
        if name == "InvalidToken":
            return "Telegram rejected the bot token (check `token` in telegram.ini)"
        return f"{record.getMessage()}: {name}: {error}".strip()
    return record.getMessage()


def redact(text: str, token: str | None) -> str:
    if token:
        text = text.replace(token, "<token>")
    return _TOKEN_SHAPE.sub("<token>", text)


def deliver(text: str, title: str, requested_backend: str) -> str | None:
    """Sends through ntfy; returns None on success, else the one-line reason."""
    try:
        config = dict(load_ntfy_config())
        config["backends"] = backends(config, requested_backend)
        if "telegram" in config["backends"]:
            check_telegram_credentials()
    except ChannelError as exc:
        return str(exc)
    import ntfy

    errors = _LastError()
    root = logging.getLogger()
    root.handlers[:] = [errors]
    root.setLevel(logging.WARNING)  # httpx logs request URLs, bot token included, at INFO
    try:
        failed = ntfy.notify(text, title, config=config)
    except SystemExit:
        return "ntfy stopped while reading its configuration"
    except Exception as exc:
        return f"ntfy failed: {type(exc).__name__}: {exc}"
    return _reason(errors.record) if failed else None


def main() -> int:
    message_file = Path(sys.argv[1])
    payload = json.loads(message_file.read_bytes())
    message_file.unlink()
    failure = deliver(payload["text"], payload["title"], payload.get("backend", ""))
    if failure is None:
        return 0
    print(redact(failure, telegram_token()).replace("\n", " "), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
