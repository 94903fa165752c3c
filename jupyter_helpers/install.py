"""install / uninstall as two change sets.

The profile's own set holds the startup file and the installation record. The file that enables
the Jupyter server extension is shared by every profile of this Jupyter config, so it lives in a
set of its own that records which profiles use it and goes only when the last of them leaves.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from . import installation, paths
from .changes import ChangeError, ChangeSet, FileChange, Outcome
from .errors import UserError
from .resources import resource_path

SERVER_EXTENSION_CONFIG = {"ServerApp": {"jpserver_extensions": {"jupyter_helpers": True}}}
# What `ipython --profile NAME` can live with as a folder name inside the IPython directory.
PROFILE_NAME = re.compile(r"\w[\w.-]*")


def check_profile(profile: str) -> str:
    if not PROFILE_NAME.fullmatch(profile):
        raise UserError(f"invalid profile name {profile!r}: use letters, digits, '_', '-' and '.' "
                        "(e.g. --profile work); it names a folder inside the IPython directory")
    return profile


def startup_file(profile: str) -> Path:
    return paths.profile_dir(profile) / "startup" / paths.STARTUP_FILE_NAME


def startup_content() -> bytes:
    return resource_path("startup", paths.STARTUP_FILE_NAME).read_bytes()


def server_extension_content() -> bytes:
    return (json.dumps(SERVER_EXTENSION_CONFIG, indent=2) + "\n").encode()


def change_set(profile: str) -> ChangeSet:
    return ChangeSet(paths.profile_dir(profile) / paths.STATE_DIR_NAME)


def server_change_set() -> ChangeSet:
    ours = paths.jupyter_config_dir() / paths.STATE_DIR_NAME
    return ChangeSet(ours / "server", owned=ours)


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


def install(profile: str, dry_run: bool = False) -> list[Outcome]:
    check_profile(profile)
    mine, shared = change_set(profile), server_change_set()
    if dry_run:
        return mine.plan(profile_changes(profile), recognise) + shared.plan(server_changes(), recognise)
    user = str(paths.profile_dir(profile))
    return mine.apply(profile_changes(profile), recognise,
                      then=lambda: shared.apply(server_changes(), recognise, user=user))


def uninstall(profile: str) -> list[Outcome]:
    check_profile(profile)
    user = str(paths.profile_dir(profile))
    shared = server_change_set()
    try:
        outcomes = change_set(profile).revert(recognise, [change.path for change in profile_changes(profile)])
        if outcomes or user in shared.users():
            outcomes += shared.revert(recognise, [change.path for change in server_changes()], user=user)
    except OSError as exc:
        raise ChangeError(f"could not change {exc.filename}: {exc.strerror or exc}") from exc
    return outcomes
