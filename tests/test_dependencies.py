"""The tests run the Telegram stack users get (issue 19).

A test-only dependency that pins something in the ntfy → telegram-send → python-telegram-bot →
httpx chain would make CI test versions no user runs (aw-server once held httpx at 0.25 while a
user's install got 0.28). This asks pip what a plain `pip install jupyter-helpers` resolves today,
with the same indexes and settings the test environment was installed with, and compares.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import requires, version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

STACK = ("python-telegram-bot", "telegram-send", "httpx")


def runtime_requirements() -> list[str]:
    """The project's own dependencies, as `pip install .` reads them (no extras)."""
    return [
        text
        for text in requires("jupyter-helpers") or []
        if (marker := Requirement(text).marker) is None or marker.evaluate({"extra": ""})
    ]


def test_telegram_stack_is_what_a_plain_install_resolves(tmp_path: Path) -> None:
    report = tmp_path / "resolution.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            str(report),
            *runtime_requirements(),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"pip could not resolve the project's dependencies:\n{done.stderr[-2000:]}"
    resolved = {
        canonicalize_name(item["metadata"]["name"]): item["metadata"]["version"]
        for item in json.loads(report.read_text())["install"]
    }
    assert "ntfy" in resolved  # the resolution really is the project's
    assert {name: version(name) for name in STACK} == {name: resolved.get(name) for name in STACK}, (
        "the test environment's Telegram stack differs from a user's install: a test dependency holds it back"
    )
