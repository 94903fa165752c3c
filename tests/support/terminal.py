"""`jupyter-helpers telegram` on a real terminal (a pty), as a person runs it: the hidden prompt,
the typed token, the tap on the deep link. One flow for every test that needs it."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import time
from pathlib import Path

from .fake_telegram import FakeTelegram, start_code


def pair_on_a_terminal(command: Path, token: str, telegram: FakeTelegram, **chat: object) -> tuple[bytes, str]:
    """Runs `command telegram` on a pty: types `token` at the hidden prompt, taps the printed link
    from the chat `chat` describes (FakeTelegram.user_taps_start's keywords), and waits for the
    command to end well. Returns everything the terminal showed and the one-time code."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [str(command), "telegram"], stdin=follower, stdout=follower, stderr=follower, start_new_session=True
    )
    os.close(follower)
    seen = b""

    def read_until(marker: bytes, timeout: float = 90, after: int = 0) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while marker not in seen[after:] and time.monotonic() < deadline:
            if select.select([leader], [], [], 0.5)[0]:
                try:
                    seen += os.read(leader, 4096)
                except OSError:  # the command ended and closed the terminal
                    break
        assert marker in seen[after:], seen

    try:
        read_until(b"Bot token from @BotFather (input hidden): ")
        os.write(leader, token.encode() + b"\n")
        read_until(b"Waiting up to")
        code = start_code(seen)
        assert code, seen
        telegram.user_taps_start(code, **chat)
        read_until(b"check Telegram")
        assert process.wait(timeout=30) == 0, seen
        read_until(b"\n", after=seen.rindex(b"check Telegram"))  # the line's end may come in a later read
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    return seen, code
