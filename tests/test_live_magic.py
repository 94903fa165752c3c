"""`%autonotify --live/--live-every` and the status line, in this process's IPython (the magic's
behaviour in milliseconds; the real-kernel tests show the messages)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython


@pytest.fixture
def shell(home) -> Iterator[InteractiveShell]:
    ip = start_ipython() or InteractiveShell.instance()
    ip.extension_manager.load_extension("jupyter_helpers")
    yield ip
    ip.extension_manager.unload_extension("jupyter_helpers")


def status(shell: InteractiveShell, capsys: pytest.CaptureFixture[str], line: str = "--status") -> list[str]:
    capsys.readouterr()
    shell.run_line_magic("autonotify", line)
    return capsys.readouterr().out.splitlines()


def test_the_default_live_line(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        "live: a silent Telegram message once a run has taken 5 min 00 s, edited every 60 s while its text changes"
        in status(shell, capsys)
    )


def test_live_and_live_every_are_set_and_shown(shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    lines = status(shell, capsys, "--live 90 --live-every 15")
    assert (
        "live: a silent Telegram message once a run has taken 1 min 30 s, edited every 15 s while its text changes"
        in lines
    )
    assert "live: off (--live 0)" in status(shell, capsys, "--live 0")


def test_another_backend_says_live_messages_need_telegram(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "live: none, live messages need Telegram (backend: pushover)" in status(shell, capsys, "--backend pushover")


def test_out_of_range_values_are_refused_in_one_line(
    shell: InteractiveShell, capsys: pytest.CaptureFixture[str]
) -> None:
    """--live-every 0 was taken, then warned about as c.AutoNotify.live_every (hostile round)."""
    from IPython.core.error import UsageError

    settings = shell.configurables[-1]
    for value in ("0", "3601"):
        with pytest.raises(UsageError, match=f"a number of seconds from 1 to 3600, got '{value}'"):
            shell.run_line_magic("autonotify", f"--live-every {value}")
    assert settings.live_every == 60.0 and not list(settings.notices)
    with pytest.raises(UsageError, match="seconds must be a number from 0 to"):
        shell.run_line_magic("autonotify", "--live -5")
