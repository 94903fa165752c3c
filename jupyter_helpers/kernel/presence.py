"""Is someone looking at this kernel's notebook? Read when a message is about to go out, never per cell.

The page reports focus, visibility and input to the server extension (server/presence.py), which
writes the latest state per kernel to the presence file (common/presence.py).
The kernel finds that file beside its own connection file (the server starts kernels with their
connection files in its runtime dir). Standard library only: this runs inside user kernels.

Whenever the answer is uncertain (no file, an unreadable one, a stale or closed page, a kernel
that no Jupyter server started) the verdict is "away": better a message too many than a missed one.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ..common.presence import STALE_AFTER, presence_file, read_presence


def own_presence_file() -> Path | None:
    """This kernel's presence file, if a Jupyter server started it (ipykernel with a connection
    file named kernel-<uuid>.json); None in terminal IPython or an unusual launcher."""
    connect = sys.modules.get("ipykernel.connect")
    if connect is None:  # not running in ipykernel: do not import it just to find out
        return None
    try:
        connection_file = Path(connect.get_connection_file())
    except Exception:  # no kernel app running
        return None
    name = connection_file.name
    if not (name.startswith("kernel-") and name.endswith(".json")):
        return None
    try:
        return presence_file(connection_file.parent, name[len("kernel-"):-len(".json")])
    except ValueError:
        return None


@dataclass(frozen=True)
class Verdict:
    looking: bool
    reason: str  # for %autonotify --status: what the kernel knows, in words


def _number(page: dict, key: str) -> float | None:
    value = page.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _page_state(page: dict, now: float, present_for: float) -> tuple[bool, str]:
    """(looking, description) for one page's record."""
    reported = _number(page, "reported")
    last_input = _number(page, "last_input")
    if page.get("closed") is True:
        return False, "notebook page closed"
    if reported is None or now - reported > STALE_AFTER or reported > now + 5:
        return False, "notebook page silent" + (f" for {_ago(now - reported)}" if reported is not None else "")
    if page.get("visible") is not True:
        return False, "notebook page hidden"
    if page.get("focused") is not True:
        return False, "notebook page open but focus is elsewhere"
    if last_input is None:
        return False, "notebook page focused, no input yet"
    idle = now - last_input
    if idle > present_for:
        return False, f"notebook page focused, no input for {_ago(idle)}"
    return True, f"notebook page focused, last input {_ago(idle)} ago"


def decide(presence: dict | None, now: float, present_for: float) -> Verdict:
    """Looking means: some page showing this kernel's notebook has focus, is visible, reported
    within STALE_AFTER and had user input within `present_for` seconds of `now`."""
    if presence is None:
        return Verdict(False, "no notebook page has reported: phone messages sent")
    states = [_page_state(page, now, present_for) for page in presence["pages"] if isinstance(page, dict)]
    if not states:
        return Verdict(False, "no notebook page is open: phone messages sent")
    looking = [text for is_looking, text in states if is_looking]
    if looking:
        return Verdict(True, f"{looking[0]}: phone messages held")
    return Verdict(False, f"{states[-1][1]}: phone messages sent")


def current_verdict(present_for: float, now: float | None = None) -> Verdict:
    """What this kernel knows right now (reads one small file)."""
    path = own_presence_file()
    if path is None:
        return Verdict(False, "kernel not started by a Jupyter server: phone messages sent")
    return decide(read_presence(path), time.time() if now is None else now, present_for)


def status_line(when: str, present_for: float) -> str:
    """The line `%autonotify --status` shows about presence."""
    if when == "always":
        return "presence: not consulted (--when always): phone messages sent"
    return f"presence (--when away, input within {present_for:g} s): {current_verdict(present_for).reason}"
