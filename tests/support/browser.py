"""Headless Chromium (Debian's) driven by Playwright, and how to read the title it shows."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> None:
    """Skip on a user's machine without Chromium; in CI a missing browser is a failure."""
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} not found (apt-get install chromium chromium-driver)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright package is not installed (pip install '.[test]')"
    if problem:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"browser tests must run in CI: {problem}")
        pytest.skip(problem)


@contextmanager
def chromium() -> Iterator:
    """Debian's headless Chromium under Playwright (skips, or fails in CI, without it)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def logged_in_state(browser, login_url: str) -> dict:
    """Cookies and storage after loading `login_url` (a page with the token in its URL) once: a
    module's contexts made with it start logged in, without a page load of their own first."""
    context = browser.new_context()
    try:
        context.new_page().goto(login_url)
        return context.storage_state()
    finally:
        context.close()


def settled_title(page, expected: str | re.Pattern, timeout: float = 20.0) -> str:
    """The title once it equals (or fully matches) `expected`, else the last one seen when time
    runs out: front ends set their title a moment after the page loads."""

    def done(title: str) -> bool:
        return title == expected if isinstance(expected, str) else expected.fullmatch(title) is not None

    deadline = time.monotonic() + timeout
    title = page.title()
    while not done(title) and time.monotonic() < deadline:
        time.sleep(0.1)
        title = page.title()
    return title


def record_dialogs(page) -> list[str]:
    """Collects alert/confirm/prompt messages (script that must never run); lets the
    'leave page?' prompt some front ends show through, so navigation goes on."""
    seen: list[str] = []

    def handle(dialog) -> None:
        if dialog.type == "beforeunload":
            dialog.accept()
        else:
            seen.append(dialog.message)
            dialog.dismiss()

    page.on("dialog", handle)
    return seen
