"""`jupyter-helpers wsl`: make Jupyter started inside WSL open the Windows browser on the http URL.

The decisions (is this WSL, which browser, what the config must say) are pure functions over text
read through `sysroot`. `run` edits the user's jupyter_server_config.json key by key under its
lock, recording what each key held before; `--undo` puts back only the keys that still hold our
values, and the exact original bytes when nobody touched the file since.
"""

from __future__ import annotations

import configparser
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from ..common import paths
from ..common.errors import UserError
from ..common.files import atomic_write, check_writable, file_mode, read, sha256, sweep_temps
from ..common.locks import locked, make_dirs
from . import sysroot
from .changes import made_by_neighbours

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


SETTINGS = ("browser", "use_redirect_file")


def settings(command: str) -> dict:
    return {"browser": command, "use_redirect_file": False}


def configured(config: dict, command: str) -> dict:
    """The user's config with the two settings this fix needs; everything else kept as it was."""
    server = dict(config.get("ServerApp") or {})
    server.update(settings(command))
    return {**config, "ServerApp": server}


def undone(config: dict, keys: dict, had_server_app: bool = True) -> tuple[dict, list[str], list[str]]:
    """The config with each key we set put back to what it was before, but only where it still
    holds our value; returns (config, keys put back, keys the user changed since)."""
    server = config.get("ServerApp")
    server = dict(server) if isinstance(server, dict) else None
    back, kept = [], []
    for key, record in keys.items():
        if server is not None and key in server and server[key] == record["value"]:
            if "before" in record:
                server[key] = record["before"]
            else:
                del server[key]
            back.append(key)
        else:
            kept.append(key)
    result = dict(config)
    if server is not None:
        result["ServerApp"] = server
        if not server and not had_server_app:
            del result["ServerApp"]
    return result, back, kept


def remembered(keys: dict, server: dict, wanted: dict) -> dict:
    """What undo must know per key: the value we set, and what the user had there before. A key
    the user set to something else since our last run counts as theirs again."""
    result = {}
    for key, value in wanted.items():
        old = keys.get(key)
        if old is not None and server.get(key, _MISSING) == old["value"]:
            result[key] = {**old, "value": value}
        else:
            result[key] = {"value": value, **({"before": server[key]} if key in server else {})}
    return result


_MISSING = object()


def config_path() -> Path:
    return paths.jupyter_config_dir() / CONFIG_NAME


def parse_config(data: bytes | None, path: Path) -> dict:
    if data is None:
        return {}
    try:
        config = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WslError(f"cannot read {path} ({reason}); fix it first") from exc
    if not isinstance(config, dict):
        raise WslError(f"{path} must hold a JSON object; fix it first")
    if not isinstance(config.get("ServerApp", {}), dict):
        raise WslError(f'"ServerApp" in {path} must be a JSON object (e.g. {{"ServerApp": {{}}}}); fix it first')
    return config


def load_config(path: Path) -> dict:
    try:
        return parse_config(read(path), path)
    except OSError as exc:
        raise WslError(f"cannot read {path} ({exc.strerror}); fix it first") from exc


def state_dir() -> Path:
    return paths.wsl_record().parent


def record_path() -> Path:
    return paths.wsl_record()


def _load_record() -> dict | None:
    data = read(record_path())
    if data is None:
        return None
    try:
        record = json.loads(data)
        if isinstance(record, dict) and isinstance(record.get("keys"), dict):
            return record
    except (ValueError, RecursionError):
        pass
    raise WslError(f"{record_path()} is damaged, so `wsl --undo` cannot tell what it set; remove "
                   "ServerApp.browser and ServerApp.use_redirect_file from the config by hand and delete it")


def _dump(config: dict) -> bytes:
    return (json.dumps(config, indent=2) + "\n").encode()


def apply(command: str, dry_run: bool) -> str:
    """Sets our two keys in the user's config under its lock; the record keeps what each held
    before (and a backup of the whole file, for an exact undo while nobody else edits it)."""
    path = config_path()
    if dry_run:
        before = read(path)
        return "unchanged" if before == _dump(configured(parse_config(before, path), command)) else "would write"
    check_writable([path, record_path()])
    try:
        with locked(path) as lock_dirs:
            dirs = [str(d) for d in lock_dirs]
            _sweep(path)
            before = read(path)
            config = parse_config(before, path)
            content = _dump(configured(config, command))
            if before == content:
                return "unchanged"
            record = _load_record()
            dirs += [str(d) for d in make_dirs(state_dir())]
            server = config.get("ServerApp") if isinstance(config.get("ServerApp"), dict) else {}
            if record is None:
                record = {"path": str(path), "existed": before is not None, "backup": None, "exact": True,
                          "dirs": dirs, "had_server_app": "ServerApp" in config, "keys": {}}
                if before is not None:
                    record["backup"] = str(_back_up(path, before))
            else:
                record["dirs"] = sorted(set(record.get("dirs", [])) | set(dirs))
                ours = before is not None and sha256(before) == record.get("written_sha256")
                # still the original: a kill came before our write, or midway through an undo
                original = before == _original(record) if record.get("existed") else before is None
                if not (ours or original):
                    record["exact"] = False  # edited since our last write: the old bytes are history
            record["dirs"] = record["dirs"] + made_by_neighbours([paths.server_manifest()], [path, record_path()],
                                                                 record["dirs"])
            record["keys"] = remembered(record["keys"], server, settings(command))
            record["written_sha256"] = sha256(content)
            atomic_write(record_path(), (json.dumps(record, indent=2) + "\n").encode(), mode=0o600)
            atomic_write(path, content)
    except OSError as exc:
        raise WslError(f"could not write {exc.filename or path}: {exc.strerror or exc}") from exc
    return "wrote"


def _original(record: dict) -> bytes | None:
    """The file's bytes before the first `wsl` (None: there was no file, or its backup is gone)."""
    return read(Path(record["backup"])) if record.get("backup") else None


def _sweep(path: Path) -> None:
    """Tidies what a killed run left: temp files beside the config, the record and the backup,
    and a backup without a record (written just before a kill, or left by a killed undo)."""
    backup = state_dir() / "backups" / path.name
    for written in (path, record_path(), backup):
        sweep_temps(written)
    if not record_path().exists():
        backup.unlink(missing_ok=True)


def _back_up(path: Path, data: bytes) -> Path:
    backup_dir = state_dir() / "backups"
    backup_dir.mkdir(mode=0o700, exist_ok=True)
    backup_dir.chmod(0o700)
    backup = backup_dir / path.name
    atomic_write(backup, data, mode=file_mode(path))
    return backup


def undo_changes() -> list[str]:
    """Takes back only what `wsl` set and nobody changed since; exact bytes when the file is
    still just as `wsl` wrote it."""
    path = config_path()
    if not record_path().exists():
        return ["nothing to undo: `jupyter-helpers wsl` has not changed the Jupyter config"]
    tidy: list[str] = []
    try:
        with locked(path, tidy=tidy):
            _sweep(path)
            record = _load_record()
            if record is None:
                return ["nothing to undo: `jupyter-helpers wsl` has not changed the Jupyter config"]
            lines = _undo_locked(path, record)
            record_path().unlink()  # first: a backup without a record is swept by the next run
            if record.get("backup"):
                Path(record["backup"]).unlink(missing_ok=True)
            state = state_dir()
            tidy += [str(state / "backups"), str(state), str(state.parent), *record.get("dirs", [])]
    except OSError as exc:
        raise WslError(f"could not change {exc.filename or path}: {exc.strerror or exc}") from exc
    return lines


def _undo_locked(path: Path, record: dict) -> list[str]:
    current = read(path)
    backup = Path(record["backup"]) if record.get("backup") else None
    if current is None:
        return [f"nothing to undo: {path} was removed since `jupyter-helpers wsl`"]
    if sha256(current) == record.get("written_sha256") and record.get("exact", True):
        if not record.get("existed", backup is not None):
            path.unlink()
            return [f"removed: {path}"]
        original = read(backup) if backup else None
        if original is not None:
            atomic_write(path, original, mode=file_mode(backup))
            return [f"restored: {path}"]
    config, back, kept = undone(parse_config(current, path), record["keys"], record.get("had_server_app", True))
    if config == {} and not record.get("existed", backup is not None):
        path.unlink()
        lines = [f"removed: {path}"]
    else:
        atomic_write(path, _dump(config))
        lines = [f"undid {', '.join('ServerApp.' + key for key in back) or 'nothing'} in {path} "
                 "(everything else in it stays as it is)"]
    if kept:
        lines.append(f"left as you changed them since: {', '.join('ServerApp.' + key for key in kept)}")
    return lines


def run(browser: str | None = None, dry_run: bool = False, undo: bool = False, force: bool = False) -> list[str]:
    if undo:
        return undo_changes()
    found = probe()
    if found.version is None and not force:
        raise NotWsl(f"WSL not detected (kernel release {found.release or 'unknown'!r}); "
                     "use --force to configure anyway")
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
