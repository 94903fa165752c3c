"""Where files live: the kernel finds the project map without jupyter_core, by jupyter_core's rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from jupyter_core.paths import jupyter_config_dir

from jupyter_helpers.common import paths
from jupyter_helpers.common.errors import UserError


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"JUPYTER_CONFIG_DIR": "/somewhere/else"},
        {"JUPYTER_CONFIG_DIR": ""},
        {"JUPYTER_PLATFORM_DIRS": "1"},
        {"JUPYTER_PLATFORM_DIRS": "1", "XDG_CONFIG_HOME": "/xdg"},
        {"JUPYTER_PLATFORM_DIRS": "off"},
        {"JUPYTER_PLATFORM_DIRS": "1", "JUPYTER_CONFIG_DIR": "/wins"},
    ],
)
def test_jupyter_config_dir_agrees_with_jupyter_core(
    env: dict[str, str], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_PLATFORM_DIRS", "XDG_CONFIG_HOME", "JUPYTER_NO_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert paths.jupyter_config_dir() == Path(jupyter_config_dir())


def test_no_config_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_NO_CONFIG", "1")
    with pytest.raises(UserError, match="JUPYTER_NO_CONFIG is set"):
        paths.projects_file()


def test_environment_dirs_are_the_ones_jupyter_and_ipython_read_for_this_environment() -> None:
    from IPython.core.application import ENV_CONFIG_DIRS
    from jupyter_core.paths import ENV_CONFIG_PATH

    assert paths.environment_jupyter_dir() == Path(ENV_CONFIG_PATH[0])
    assert [str(paths.environment_ipython_dir())] == ENV_CONFIG_DIRS


def test_ipython_system_dirs_are_ipythons() -> None:
    from IPython.core.application import SYSTEM_CONFIG_DIRS

    assert list(paths.IPYTHON_SYSTEM_DIRS) == SYSTEM_CONFIG_DIRS
