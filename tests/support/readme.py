"""The README's output samples, and how the tests compare them with what really printed.

A sample is the fenced block after `<!-- output:NAME -->`. Only what differs from machine to
machine is normalised, on both sides: the home folder reads /home/me, the environment
/home/me/.venvs/jupyter, the host name vm, durations `N s` and memory sizes `N GB`.
"""

from __future__ import annotations

import re
import socket
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent.parent / "README.md"
BIN = Path(sys.executable).parent
DURATION = re.compile(r"\b(?:\d+ h \d\d min \d\d s|\d+ min \d\d s|\d+(?:\.\d+)? s)\b")
SIZE = re.compile(r"\b\d+(?:\.\d+)? [GM]B\b")


def sample(name: str) -> str:
    match = re.search(rf"<!-- output:{name} -->\s*```\w*\n(.*?)```", README.read_text(), re.S)
    assert match, f"README.md has no <!-- output:{name} --> block"
    return match.group(1)


def samples(name: str) -> list[str]:
    """A marked sample followed directly by more blocks (several messages in a row)."""
    match = re.search(rf"<!-- output:{name} -->\s*((?:```\w*\n.*?```\s*)+)", README.read_text(), re.S)
    assert match, f"README.md has no <!-- output:{name} --> block"
    return re.findall(r"```\w*\n(.*?)```", match.group(1), re.S)


def sample_names() -> list[str]:
    return re.findall(r"<!-- output:(\w+) -->", README.read_text())


def normal(text: str, home: Path) -> str:
    text = text.replace("\r\n", "\n").replace(str(BIN.parent), "/home/me/.venvs/jupyter").replace(str(home), "/home/me")
    return SIZE.sub("N GB", DURATION.sub("N s", text.replace(socket.gethostname(), "vm")))
