"""AutoNotify settings: a bad value becomes the default with one line saying so (never an exception
that stops the kernel or the sender)."""

from __future__ import annotations

import pytest
from traitlets.config import Config

from jupyter_helpers.kernel.settings import AutoNotify


@pytest.mark.parametrize(
    "name, value, default",
    [
        ("after", float("inf"), 60.0),
        ("after", float("nan"), 60.0),
        ("after", -1, 60.0),
        ("after", "10", 60.0),
        ("send_timeout", float("inf"), 30.0),
        ("send_timeout", 1e300, 30.0),
        ("send_timeout", 0.5, 30.0),
        ("run_gap", -0.1, 1.0),
        ("run_gap", float("nan"), 1.0),
        ("excerpt_length", -1, 200),
        ("excerpt_length", 10**9, 200),
        ("excerpt_length", 2.5, 200),
        ("per", "cells", "run"),
        ("images", "no", True),
        ("enabled", None, True),
        ("message", 5, ""),
        ("backend", ["telegram"], ""),
        ("live", -1, 300.0),
        ("live", float("inf"), 300.0),
        ("live_every", 0, 60.0),
        ("live_every", 3601, 60.0),
        ("live_every", "60", 60.0),
    ],
)
def test_bad_value_gives_the_default_and_one_notice(name: str, value: object, default: object) -> None:
    config = Config()
    setattr(config.AutoNotify, name, value)
    settings = AutoNotify(config=config)
    assert getattr(settings, name) == default
    assert len(settings.notices) == 1
    notice = settings.notices[0]
    assert notice.startswith(f"jupyter-helpers: c.AutoNotify.{name} = {value!r} is not ") and "\n" not in notice
    assert notice.endswith(f"; using {default!r}")


def test_good_values_are_kept_and_changes_at_run_time_are_checked_too() -> None:
    config = Config()
    config.AutoNotify.after = 300
    config.AutoNotify.per = "CELL"
    config.AutoNotify.run_gap = 2.5
    settings = AutoNotify(config=config)
    assert (settings.after, settings.per, settings.run_gap, list(settings.notices)) == (300.0, "cell", 2.5, [])
    settings.send_timeout = float("inf")
    assert settings.send_timeout == 30.0 and len(settings.notices) == 1
