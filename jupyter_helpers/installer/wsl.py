"""`jupyter-helpers wsl`: make Jupyter started inside WSL open the Windows browser on the http URL.

The decisions (is this WSL, which browser, what the config must say) are pure functions over text
read through `sysroot`. The user's jupyter_server_config.json is theirs: `run` sets our two keys
through a change set (installer/changes.py, a KeyChange), which remembers what each key held;
`--undo` puts back only the keys that still hold our values, and the exact original bytes when
nobody touched the file since.
"""

from __future__ import annotations

import configparser
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from ..common import paths
from ..common.errors import UserError
from ..common.files import read, write_error
from . import sysroot
from .changes import Action, ChangeSet, FileOutcome, KeyChange
from .json_keys import parse_config

CONFIG_NAME = "jupyter_server_config.json"
DEFAULT_MOUNT_ROOT = "/mnt/"
NOTHING_TO_UNDO = "nothing to undo: `jupyter-helpers wsl` has not changed the Jupyter config"
REDIRECT_LIMITATION = (
    "note: with the redirect file off, `jupyter notebook NAME.ipynb` opens the file browser (/tree) "
    "instead of NAME.ipynb (jupyter_server issue #1325); open the notebook from there."
)

# Searched in this order; the first one found is used unless --browser says otherwise.
BROWSERS: list[tuple[str, str]] = [
    ("firefox", "c/Program Files/Mozilla Firefox/firefox.exe"),
    ("firefox", "c/Program Files (x86)/Mozilla Firefox/firefox.exe"),
    ("chrome", "c/Program Files/Google/Chrome/Application/chrome.exe"),
    ("chrome", "c/Program Files (x86)/Google/Chrome/Application/chrome.exe"),
    ("edge", "c/Program Files (x86)/Microsoft/Edge/Application/msedge.exe"),
    ("edge", "c/Program Files/Microsoft/Edge/Application/msedge.exe"),
]


class WslError(UserError):
    pass


class NotWsl(UserError):
    exit_code = 1


def wsl_version(release: str | None, env: dict[str, str | None], interop_present: bool) -> int | None:
    """1 or 2 from the kernel release (WSL1 says `Microsoft`, WSL2 `microsoft`/`WSL2`); 2 when only
    WSL's environment variables or interop registration give it away; None off WSL."""
    release = release or ""
    if "WSL2" in release or "microsoft-standard" in release:
        return 2
    if "Microsoft" in release:
        return 1
    if "microsoft" in release.lower() or "wsl" in release.lower():
        return 2
    if env.get("WSL_DISTRO_NAME") or env.get("WSL_INTEROP") or interop_present:
        return 2
    return None


def mount_root(wsl_conf: str | None) -> str:
    """The drive mount root from /etc/wsl.conf `[automount] root`, with a trailing slash."""
    parser = configparser.ConfigParser()
    try:
        parser.read_string(wsl_conf or "")
    except configparser.Error:
        return DEFAULT_MOUNT_ROOT
    value = parser.get("automount", "root", fallback=DEFAULT_MOUNT_ROOT).strip().strip('"') or DEFAULT_MOUNT_ROOT
    return value if value.endswith("/") else value + "/"


def windows_to_wsl(path: str, root: str) -> str:
    """`C:\\Program Files\\x.exe` -> `/mnt/c/Program Files/x.exe`; other paths unchanged."""
    match = re.match(r"^([A-Za-z]):[\\/](.*)$", path)
    if not match:
        return path
    return f"{root}{match.group(1).lower()}/{match.group(2).replace(chr(92), '/')}"


@dataclass(frozen=True)
class Probe:
    version: int | None
    release: str
    mount_root: str


def probe() -> Probe:
    release = (sysroot.read_text("/proc/sys/kernel/osrelease") or "").strip()
    env = {name: sysroot.environ(name) for name in ("WSL_DISTRO_NAME", "WSL_INTEROP")}
    interop = sysroot.exists("/proc/sys/fs/binfmt_misc/WSLInterop")
    return Probe(wsl_version(release, env, interop), release, mount_root(sysroot.read_text("/etc/wsl.conf")))


def found_browsers(root: str) -> list[tuple[str, Path]]:
    return [(name, sysroot.host_path(root + rel)) for name, rel in BROWSERS if sysroot.exists(root + rel)]


def choose_browser(requested: str | None, root: str) -> Path:
    """The browser executable as a real path on this machine."""
    found = found_browsers(root)
    if requested is None:
        if not found:
            raise WslError(
                f"no Windows browser found under {root}c/ (Firefox, Chrome, Edge); pass one with --browser PATH"
            )
        return found[0][1]
    if requested.lower() in {name for name, _ in BROWSERS}:
        matches = [path for name, path in found if name == requested.lower()]
        if not matches:
            raise WslError(f"{requested} is not installed at the usual places under {root}c/; pass its path")
        return matches[0]
    wsl_path = windows_to_wsl(requested, root)
    for candidate in (Path(wsl_path), sysroot.host_path(wsl_path)):
        if candidate.is_file():
            return candidate.absolute()
    raise WslError(
        f"browser {requested!r} not found (give the path of its .exe, e.g. "
        f"'{root}c/Program Files/Mozilla Firefox/firefox.exe', or firefox/chrome/edge)"
    )


def browser_command(browser: Path) -> str:
    """The `ServerApp.browser` value: a quoted command with %s, so paths with spaces work."""
    text = str(browser)
    if ":" in text or '"' in text:
        raise WslError(
            f"browser path {text!r} contains ':' or '\"', which browser commands cannot carry; "
            "use a path without them (e.g. a symlink)"
        )
    return f'"{text}" %s'


def settings(command: str) -> dict[str, dict[str, object]]:
    """What the Jupyter config must say for this fix (the only keys `wsl` ever sets)."""
    return {"ServerApp": {"browser": command, "use_redirect_file": False}}


def config_path() -> Path:
    return paths.jupyter_config_dir() / CONFIG_NAME


def change_set() -> ChangeSet:
    state = paths.wsl_manifest().parent
    return ChangeSet(state, owned=state.parent, neighbours=lambda: [paths.server_manifest()])


def apply(command: str, dry_run: bool) -> str:
    """Sets our two keys in the user's config, key by key; the change set records what each
    held before (and a backup of the whole file, for an exact undo while nobody else edits it)."""
    change = KeyChange(config_path(), settings(command))
    if dry_run:
        outcome = change_set().plan([change], recognise=_never)[0]
        return "unchanged" if outcome.action == Action.UNCHANGED else "would write"
    outcome = change_set().apply([change], recognise=_never)[0]
    return "unchanged" if outcome.action == Action.UNCHANGED else "wrote"


def _never(path: Path, data: bytes) -> bool:
    """`wsl` owns no whole file: nothing is recognised as ours by content alone."""
    return False


def undo_changes() -> list[str]:
    """Takes back only what `wsl` set and nobody changed since; exact bytes when the file is
    still just as `wsl` wrote it."""
    changes = change_set()
    if changes.damaged():
        raise WslError(
            f"{changes.manifest_path} is damaged, so `wsl --undo` cannot tell what it set; remove "
            "ServerApp.browser and ServerApp.use_redirect_file from the config by hand and delete it"
        )
    try:
        outcomes = changes.revert(_never, [])
    except OSError as exc:
        raise write_error(exc, config_path()) from exc
    return [line for outcome in outcomes for line in _undo_lines(outcome)] or [NOTHING_TO_UNDO]


def _undo_lines(outcome: FileOutcome) -> list[str]:
    if outcome.action == Action.UNDO_KEYS:
        lines = [
            f"undid {', '.join(outcome.keys_back) or 'nothing'} in {outcome.path} "
            "(everything else in it stays as it is)"
        ]
        if outcome.keys_kept:
            lines.append(f"left as you changed them since: {', '.join(outcome.keys_kept)}")
        return lines
    if outcome.action == Action.NOTE:
        return [f"nothing to undo: {outcome.path} was removed since `jupyter-helpers wsl`"]
    if outcome.action == Action.FAILED:
        raise WslError(f"could not change {outcome.path}: {outcome.note}")
    return [f"{'restored' if outcome.action == Action.RESTORE else 'removed'}: {outcome.path}"]


def run(browser: str | None = None, dry_run: bool = False, undo: bool = False, force: bool = False) -> list[str]:
    if undo:
        return undo_changes()
    found = probe()
    if found.version is None and not force:
        raise NotWsl(
            f"WSL not detected (kernel release {found.release or 'unknown'!r}); use --force to configure anyway"
        )
    lines = [f"WSL {found.version} detected (kernel {found.release})" if found.version else "WSL not detected; --force"]
    for name, path in found_browsers(found.mount_root):
        lines.append(f"found {name}: {path}")
    chosen = choose_browser(browser, found.mount_root)
    command = browser_command(chosen)
    lines += [
        f"{apply(command, dry_run)}: {config_path()}",
        f"  ServerApp.browser = {command}",
        "  ServerApp.use_redirect_file = false",
        f"for other tools, add to your shell rc: export BROWSER={shlex.quote(str(chosen))}",
        REDIRECT_LIMITATION,
    ]
    return lines


def status() -> tuple[bool, str]:
    """For `jupyter-helpers status`: on WSL, is Jupyter set to open the Windows browser?"""
    found = probe()
    if found.version is None:
        return True, "WSL: not detected (nothing to configure)"
    path = config_path()
    try:
        server = parse_config(read(path), path, ["ServerApp"]).get("ServerApp") or {}
    except UserError as exc:
        return False, str(exc)
    except OSError as exc:
        return False, f"cannot read {path} ({exc.strerror}); fix it first"
    command = server.get("browser")
    try:
        executable = shlex.split(command)[0] if isinstance(command, str) and command.strip() else None
    except ValueError as exc:  # a hand-edited command with an unclosed quote
        return False, (
            f"WSL {found.version}: ServerApp.browser in {path} is not a command line ({exc}); "
            "fix its quotes or run `jupyter-helpers wsl`"
        )
    if executable is None or not Path(executable).exists():
        return False, f"WSL {found.version}: no Windows browser configured (run `jupyter-helpers wsl`)"
    if server.get("use_redirect_file", True):
        return False, f"WSL {found.version}: redirect file still on (run `jupyter-helpers wsl`)"
    return True, f"WSL {found.version}: Jupyter opens {executable} on the http URL"
