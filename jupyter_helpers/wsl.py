"""`jupyter-helpers wsl`: make Jupyter started inside WSL open the Windows browser on the http URL.

The decisions (is this WSL, which browser, what the config must say) are pure functions over text
read through `sysroot`; `run` applies them to the user's jupyter_server_config.json as a change
set, so `--undo` restores the file byte for byte.
"""

from __future__ import annotations

import configparser
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from . import paths, sysroot
from .changes import ChangeSet, FileChange
from .errors import UserError

CONFIG_NAME = "jupyter_server_config.json"
DEFAULT_MOUNT_ROOT = "/mnt/"
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
            raise WslError(f"no Windows browser found under {root}c/ (Firefox, Chrome, Edge); "
                           "pass one with --browser PATH")
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
    raise WslError(f"browser {requested!r} not found (give the path of its .exe, e.g. "
                   f"'{root}c/Program Files/Mozilla Firefox/firefox.exe', or firefox/chrome/edge)")


def browser_command(browser: Path) -> str:
    """The `ServerApp.browser` value: a quoted command with %s, so paths with spaces work."""
    text = str(browser)
    if ":" in text or '"' in text:
        raise WslError(f"browser path {text!r} contains ':' or '\"', which browser commands cannot carry; "
                       "use a path without them (e.g. a symlink)")
    return f'"{text}" %s'


def configured(config: dict, command: str) -> dict:
    """The user's config with the two settings this fix needs; everything else kept as it was."""
    server = dict(config.get("ServerApp") or {})
    server.update({"browser": command, "use_redirect_file": False})
    return {**config, "ServerApp": server}


def config_path() -> Path:
    return paths.jupyter_config_dir() / CONFIG_NAME


def load_config(path: Path) -> dict:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise WslError(f"cannot read {path} ({exc}); fix it first") from exc
    if not isinstance(config, dict):
        raise WslError(f"{path} must hold a JSON object; fix it first")
    return config


def change_set() -> ChangeSet:
    return ChangeSet(paths.jupyter_config_dir() / paths.STATE_DIR_NAME / "wsl")


def run(browser: str | None = None, dry_run: bool = False, undo: bool = False, force: bool = False) -> list[str]:
    if undo:
        target = change_set()
        if not target.recorded():
            return ["nothing to undo: `jupyter-helpers wsl` has not changed the Jupyter config"]
        return [f"{action}d: {path}" for action, path in target.revert()]
    found = probe()
    if found.version is None and not force:
        raise NotWsl(f"WSL not detected (kernel release {found.release or 'unknown'!r}); "
                     "use --force to configure anyway")
    lines = [f"WSL {found.version} detected (kernel {found.release})" if found.version else "WSL not detected; --force"]
    for name, path in found_browsers(found.mount_root):
        lines.append(f"found {name}: {path}")
    chosen = choose_browser(browser, found.mount_root)
    command = browser_command(chosen)
    path = config_path()
    new = configured(load_config(path), command)
    content = (json.dumps(new, indent=2) + "\n").encode()
    target = change_set()
    actions = target.plan([FileChange(path, content)]) if dry_run else target.apply([FileChange(path, content)])
    verb = "would write" if dry_run else "wrote"
    for action, changed in actions:
        lines.append(f"{'unchanged' if action == 'unchanged' else verb}: {changed}")
    lines += [
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
    try:
        server = load_config(config_path()).get("ServerApp") or {}
    except WslError as exc:
        return False, str(exc)
    command = server.get("browser")
    executable = shlex.split(command)[0] if isinstance(command, str) and command.strip() else None
    if executable is None or not Path(executable).exists():
        return False, f"WSL {found.version}: no Windows browser configured (run `jupyter-helpers wsl`)"
    if server.get("use_redirect_file", True):
        return False, f"WSL {found.version}: redirect file still on (run `jupyter-helpers wsl`)"
    return True, f"WSL {found.version}: Jupyter opens {executable} on the http URL"
