"""install / uninstall as two change sets.

The profile's own set holds the startup file and the installation record. The file that enables
the Jupyter server extension is shared by every profile of this Jupyter config, so it lives in a
set of its own that records which profiles use it and goes only when the last of them leaves.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ..common import installation, paths
from ..common.errors import UserError
from ..common.files import write_error
from ..common.resources import resource_path
from .changes import ChangeSet, FileChange, FileOutcome

SERVER_EXTENSION_CONFIG = {"ServerApp": {"jpserver_extensions": {"jupyter_helpers": True}}}
# What `ipython --profile NAME` can live with as a folder name inside the IPython directory
# (`profile_NAME` must fit the 255 bytes a file name may have).
PROFILE_NAME = re.compile(r"\w[\w.-]*")
PROFILE_NAME_MAX_BYTES = 255 - len("profile_")


def check_profile(profile: str) -> str:
    if not PROFILE_NAME.fullmatch(profile) or len(profile.encode()) > PROFILE_NAME_MAX_BYTES:
        raise UserError(
            f"invalid profile name {profile!r}: use letters, digits, '_', '-' and '.' "
            f"(at most {PROFILE_NAME_MAX_BYTES} bytes, e.g. --profile work); "
            "it names a folder inside the IPython directory"
        )
    return profile


def startup_file(profile: str) -> Path:
    return paths.profile_dir(profile) / "startup" / paths.STARTUP_FILE_NAME


def startup_content() -> bytes:
    return resource_path("startup", paths.STARTUP_FILE_NAME).read_bytes()


def server_extension_content() -> bytes:
    return (json.dumps(SERVER_EXTENSION_CONFIG, indent=2) + "\n").encode()


def change_set(profile: str) -> ChangeSet:
    state = paths.profile_dir(profile) / paths.STATE_DIR_NAME
    return ChangeSet(
        state,
        neighbours=lambda: [
            other
            for other in paths.ipython_dir().glob(f"profile_*/{paths.STATE_DIR_NAME}/{paths.MANIFEST_NAME}")
            if other.parent != state
        ],
    )


def server_change_set() -> ChangeSet:
    state = paths.server_manifest().parent
    return ChangeSet(state, owned=state.parent, neighbours=lambda: [paths.wsl_manifest()])


def profile_changes(profile: str) -> list[FileChange]:
    return [
        FileChange(startup_file(profile), startup_content()),
        FileChange(installation.record_path(paths.profile_dir(profile)), installation.current().to_bytes()),
    ]


def server_changes() -> list[FileChange]:
    return [FileChange(paths.server_extension_file(), server_extension_content())]


def recognise(path: Path, data: bytes) -> bool:
    """Is this a file we wrote? Our shipped files byte for byte, or any installation record."""
    if path.name == installation.RECORD_NAME:
        return installation.is_record(data)
    if path.name == paths.STARTUP_FILE_NAME:
        return data == startup_content()
    return path.name == paths.SERVER_EXTENSION_FILE_NAME and data == server_extension_content()


def install(profile: str, dry_run: bool = False) -> list[FileOutcome]:
    check_profile(profile)
    mine, shared = change_set(profile), server_change_set()
    if dry_run:
        return mine.plan(profile_changes(profile), recognise) + shared.plan(server_changes(), recognise)
    user = str(paths.profile_dir(profile))
    return mine.apply(
        profile_changes(profile), recognise, then=lambda: shared.apply(server_changes(), recognise, user=user)
    )


def uninstall(profile: str) -> list[FileOutcome]:
    check_profile(profile)
    user = str(paths.profile_dir(profile))
    shared = server_change_set()

    def leave_shared(outcomes: list[FileOutcome]) -> list[FileOutcome]:
        if not outcomes and user not in shared.users():
            return []  # this profile never had it: another profile's extension stays untouched
        return shared.revert(recognise, [change.path for change in server_changes()], user=user)

    try:  # the shared part under the profile's lock, as install does it: one order, no interleaving
        outcomes = change_set(profile).revert(
            recognise, [change.path for change in profile_changes(profile)], then=leave_shared
        )
    except OSError as exc:
        raise write_error(exc, paths.profile_dir(profile)) from exc
    return outcomes


def what_stays(per_user: bool = True) -> list[str]:
    """After uninstall: what is still there and is the user's to keep or remove (their setup
    outlives an uninstall, so a reinstall needs no new setup)."""
    import sys

    from ..common.projects import ProjectStore

    lines = []
    telegram = paths.telegram_ini()
    if per_user and telegram.exists():
        lines.append(f"stays: {telegram} (your bot token and chat id; delete it to remove them)")
    projects = ProjectStore.default().path
    if per_user and projects.exists():
        lines.append(f"stays: {projects} (your project map, which window titles and time tracking use)")
    if per_user and paths.wsl_manifest().exists():
        lines.append(
            "stays: the WSL browser settings in your Jupyter config (`jupyter-helpers wsl --undo` takes them back)"
        )
    lines.append(
        f"stays: the jupyter-helpers package in {sys.prefix}, which keeps window titles on in Jupyter "
        "servers started from there (`pip uninstall jupyter-helpers` removes both)"
    )
    return lines + what_stays_active()


def what_stays_active() -> list[str]:
    """What still sends after this uninstall: servers while jupyter-helpers is installed elsewhere
    for this user, else the servers running now (they decided at their start)."""
    installed = installation.where_installed()
    if installed is not None:
        return [
            f"stays active: kernel-death messages and ActivityWatch heartbeats from your Jupyter servers, "
            f"as jupyter-helpers is still installed for {installed.for_whom} ({installed.path}; "
            f"`{installed.undo}` ends them)"
        ]
    return [
        f"stays active until you restart it: the Jupyter server at {url} (pid {pid}), which still sends "
        "kernel-death messages and ActivityWatch heartbeats; servers started from now on send nothing"
        for url, pid in running_servers()
    ]


def running_servers() -> list[tuple[str, int]]:
    """(url, pid) of this user's Jupyter servers that are running, from their runtime files."""
    import os

    from jupyter_core.paths import jupyter_runtime_dir

    found = []
    for info in sorted(Path(jupyter_runtime_dir()).glob("jpserver-*.json")):
        try:
            server = json.loads(info.read_text())
            pid, url = int(server["pid"]), str(server["url"])
            os.kill(pid, 0)
        except (OSError, ValueError, KeyError, TypeError):
            continue  # gone, or not a file a server wrote
        found.append((url, pid))
    return found
