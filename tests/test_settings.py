"""AutoNotify settings: a bad value becomes the default with one line saying so (never an exception
that stops the kernel or the sender)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest
from traitlets.config import Config, loader
from traitlets.config.loader import JSONFileConfigLoader, PyFileConfigLoader

from jupyter_helpers.common import autonotify
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


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(a profile, this environment's etc/ipython) under tmp_path: sys.prefix moved there."""
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "env"))
    (tmp_path / "env/etc/ipython").mkdir(parents=True)
    (tmp_path / "profile").mkdir()
    return tmp_path / "profile", tmp_path / "env/etc/ipython"


def kernel_settings(profile: Path) -> AutoNotify:
    """AutoNotify as a kernel builds it: the files merged as IPython's application merges them."""
    config = Config()
    for path in autonotify.config_files(profile):
        if path.is_file():
            with contextlib.suppress(Exception, SystemExit):  # IPython logs it and goes on
                loader = PyFileConfigLoader if path.suffix == ".py" else JSONFileConfigLoader
                config.merge(loader(path.name, path=str(path.parent)).load_config())
    return AutoNotify(config=config)


def test_the_server_and_status_refuse_what_a_kernel_refuses_with_the_same_line(folders: tuple[Path, Path]) -> None:
    profile, _ = folders
    config = profile / "ipython_config.py"
    config.write_text("c.AutoNotify.send_timeout = 0.5\nc.AutoNotify.present_for = 100000\nc.AutoNotify.per = 'CELL'\n")
    loaded = autonotify.load(profile, loader)
    kernel = kernel_settings(profile)
    assert (loaded.values["send_timeout"], loaded.values["present_for"], loaded.values["per"]) == (30.0, 120.0, "cell")
    assert loaded.values == {setting.name: getattr(kernel, setting.name) for setting in autonotify.SETTINGS}
    assert [line.replace(f" in {config}", "") for line in loaded.bad_values] == [
        notice.removeprefix("jupyter-helpers: ") for notice in kernel.notices
    ]
    assert loaded.bad_values[0] == (
        f"c.AutoNotify.send_timeout = 0.5 in {config} is not a number of seconds from 1 to 3600; using 30.0"
    )


def test_files_are_read_in_ipythons_order(folders: tuple[Path, Path]) -> None:
    """ipython_config in every folder (system, environment, profile), then ipython_kernel_config in
    every folder; in one folder NAME.json over NAME.py."""
    profile, environment = folders
    (environment / "ipython_config.json").write_text('{"AutoNotify": {"after": 5, "run_gap": 2, "per": "cell"}}')
    (profile / "ipython_config.py").write_text("c.AutoNotify.after = 7\nc.AutoNotify.message = 'py'\n")
    (profile / "ipython_config.json").write_text('{"AutoNotify": {"after": 9}}')
    (environment / "ipython_kernel_config.json").write_text('{"AutoNotify": {"per": "run", "excerpt_length": 10}}')
    (profile / "ipython_kernel_config.py").write_text("c.AutoNotify.excerpt_length = 20\n")
    loaded = autonotify.load(profile, loader)
    expected = {"after": 9.0, "run_gap": 2.0, "per": "run", "message": "py", "excerpt_length": 20}
    assert {name: loaded.values[name] for name in expected} == expected
    assert loaded.sources["after"] == profile / "ipython_config.json"
    assert loaded.sources["run_gap"] == environment / "ipython_config.json"
    kernel = kernel_settings(profile)
    assert {name: getattr(kernel, name) for name in expected} == expected


def test_a_file_that_cannot_be_loaded_is_skipped_with_one_line(folders: tuple[Path, Path]) -> None:
    """As IPython skips a file whose code raises (and logs it); `{"AutoNotify": 5}` stops IPython
    itself, and a server reading it goes on with the other files."""
    profile, environment = folders
    (environment / "ipython_config.py").write_text("c.AutoNotify.after = 5\nc.AutoNotify.run_gap = 3\n")
    (profile / "ipython_config.json").write_text('{"AutoNotify": 5}')
    (profile / "ipython_kernel_config.py").write_text("c.AutoNotify.run_gap = 4\nimport sys; sys.exit(0)\n")
    loaded = autonotify.load(profile, loader)
    assert (loaded.values["after"], loaded.values["run_gap"]) == (5.0, 3.0)
    assert loaded.unusable_files == [
        f"cannot load {profile / 'ipython_config.json'} (AutoNotify is 5, not a section of settings: write "
        "AutoNotify.name = value; IPython cannot start with it); its settings are not used",
        f"cannot load {profile / 'ipython_kernel_config.py'} (SystemExit: 0); its settings are not used",
    ]
