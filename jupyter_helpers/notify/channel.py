"""Which ntfy backends a notification goes through, and whether Telegram is set up.

Shared by the sender child process and `jupyter-helpers status`, so both judge the setup alike.
"""

from __future__ import annotations

import configparser
from pathlib import Path

from .. import paths
from ..errors import UserError

DEFAULT_BACKEND = "telegram"


class ChannelError(UserError):
    """The notification channel is misconfigured; the message says how to fix it."""


def ntfy_config_file() -> Path:
    return paths.ntfy_config_dir() / "ntfy.yml"


def telegram_credentials_file() -> Path:
    return paths.ntfy_config_dir() / "telegram.ini"


def load_ntfy_config() -> dict:
    """The user's ntfy.yml, or {} when there is none. Raises ChannelError if it is unreadable."""
    path = ntfy_config_file()
    if not path.exists():
        return {}
    from ruamel.yaml import YAML, YAMLError

    try:
        config = YAML(typ="safe", pure=True).load(path.read_text())
    except (OSError, YAMLError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ChannelError(f"cannot read ntfy config {path} ({reason}); fix or remove it") from exc
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise ChannelError(f"ntfy config {path} must be a mapping (e.g. `backends: [telegram]`)")
    return config


def backends(config: dict, requested: str = "") -> list[str]:
    """`requested` (from %autonotify --backend or traitlets) wins, then the user's ntfy.yml,
    then Telegram: ntfy's own default backend sends nothing on a headless machine."""
    if requested:
        return [requested]
    chosen = config.get("backends") or ([config["backend"]] if config.get("backend") else None)
    if chosen is None:
        return [DEFAULT_BACKEND]
    if not isinstance(chosen, list) or not all(isinstance(name, str) for name in chosen):
        raise ChannelError(f"`backends` in {ntfy_config_file()} must be a list of names, e.g. [telegram]")
    return chosen


def _telegram_settings() -> configparser.ConfigParser:
    """telegram.ini as telegram-send reads it (a missing file reads as empty)."""
    path = telegram_credentials_file()
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except configparser.Error as exc:
        raise ChannelError(f"cannot parse {path} ({type(exc).__name__}); fix or remove it") from exc
    return parser


def telegram_token() -> str | None:
    """The bot token (only to redact it from error output), or None when not configured."""
    try:
        return _telegram_settings().get("telegram", "token", fallback=None)
    except ChannelError:
        return None


def check_telegram_credentials() -> None:
    """Raises when credentials are missing: ntfy's backend would otherwise prompt with input()."""
    path = telegram_credentials_file()
    parser = _telegram_settings()
    missing = [key for key in ("token", "chat_id") if not parser.get("telegram", key, fallback="").strip()]
    if missing:
        raise ChannelError(
            f"Telegram credentials missing ({', '.join(missing)}): write [telegram] token = ... and "
            f"chat_id = ... to {path}, or run `telegram-send --config {path} --configure`"
        )
