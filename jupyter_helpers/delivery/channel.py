"""Which ntfy backends a notification goes through, and whether Telegram is set up.

Shared by the sender child process and `jupyter-helpers status`, so both judge the setup alike.
"""

from __future__ import annotations

import configparser

from ..common import paths
from ..common.errors import UserError
from ..common.files import read

DEFAULT_BACKEND = "telegram"


class ChannelError(UserError):
    """The notification channel is misconfigured; the message says how to fix it."""


def load_ntfy_config() -> dict:
    """The user's ntfy.yml, or {} when there is none. Raises ChannelError if it is unreadable."""
    path = paths.ntfy_yml()
    if not path.exists():
        return {}
    from ruamel.yaml import YAML, YAMLError

    try:
        config = YAML(typ="safe", pure=True).load(path.read_bytes().decode("utf-8"))
    except (OSError, YAMLError, UnicodeDecodeError, RecursionError) as exc:
        raise ChannelError(f"cannot read ntfy config {path} ({_first_line(exc)}); fix or remove it") from exc
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
        raise ChannelError(f"`backends` in {paths.ntfy_yml()} must be a list of names, e.g. [telegram]")
    return chosen


def _first_line(exc: BaseException) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text: byte {exc.start}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def backend_module(name: str, config: dict) -> str:
    """The module ntfy imports for backend `name` (an entry may name another with `backend:`)."""
    options = config.get(name)
    if isinstance(options, dict) and isinstance(options.get("backend"), str):
        name = options["backend"]
    return name


def check_backend(name: str, config: dict) -> None:
    """Raises unless ntfy can import backend `name` and the config gives every option its
    `notify()` requires (ntfy would otherwise fail on every message)."""
    import importlib
    import inspect

    module_name = backend_module(name, config)
    module = None
    for candidate in (f"ntfy.backends.{module_name}", module_name):
        try:
            module = importlib.import_module(candidate)
            break
        except ImportError:
            continue
        except Exception as exc:
            raise ChannelError(f"ntfy backend {name!r} fails to load ({_first_line(exc)})") from exc
    if module is None or not callable(getattr(module, "notify", None)):
        raise ChannelError(
            f"unknown ntfy backend {name!r} in {paths.ntfy_yml()}: use one of ntfy's backends "
            "(telegram, pushover, ...) or a module with a notify() function"
        )
    found = config.get(name)
    options = found if isinstance(found, dict) else {}
    signature = inspect.signature(module.notify)
    required = [
        param.name
        for param in signature.parameters.values()
        if param.default is inspect.Parameter.empty
        and param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY)
        and param.name not in {"title", "message", "retcode"}
    ]
    missing = [key for key in required if key not in options]
    if missing:
        raise ChannelError(
            f"ntfy backend {name!r} needs {', '.join(missing)}: add them under `{name}:` in "
            f"{paths.ntfy_yml()} (e.g. `{name}: {{{missing[0]}: ...}}`)"
        )


def _telegram_settings() -> configparser.ConfigParser:
    """telegram.ini as telegram-send reads it (a missing file reads as empty)."""
    path = paths.telegram_ini()
    parser = configparser.ConfigParser()
    try:
        parser.read_string((read(path) or b"").decode("utf-8"), source=str(path))
    except (configparser.Error, UnicodeDecodeError, RecursionError) as exc:
        raise ChannelError(f"cannot parse {path} ({_first_line(exc)}); fix or remove it") from exc
    except OSError as exc:
        fix = "fix its permissions" if isinstance(exc, PermissionError) else "fix or remove it"
        raise ChannelError(f"cannot read {path} ({exc.strerror}); {fix}") from exc
    return parser


def telegram_token() -> str | None:
    """The bot token (only to redact it from error output), or None when not configured."""
    try:
        return _telegram_settings().get("telegram", "token", fallback=None)
    except ChannelError:
        return None


def check_telegram_credentials() -> None:
    """Raises when credentials are missing: ntfy's backend would otherwise prompt with input()."""
    path = paths.telegram_ini()
    parser = _telegram_settings()
    missing = [key for key in ("token", "chat_id") if not parser.get("telegram", key, fallback="").strip()]
    if missing:
        raise ChannelError(
            f"Telegram credentials missing ({', '.join(missing)}) in {path}: run `jupyter-helpers telegram`, "
            "which asks for your bot's token and finds your chat id"
        )


def check(requested: str = "") -> tuple[bool, str, list[str]]:
    """(ok, one line, the backends messages go through) for `jupyter-helpers status` and
    `telegram`, judged here, where messages are delivered."""
    chosen: list[str] = []
    try:
        config = load_ntfy_config()
        chosen = backends(config, requested)
        for name in chosen:
            if name == "telegram":
                check_telegram_credentials()
            else:
                check_backend(name, config)
    except ChannelError as exc:
        return False, str(exc), chosen
    return True, f"notifications go through ntfy backend(s): {', '.join(chosen)}", chosen
