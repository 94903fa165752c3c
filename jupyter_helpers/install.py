"""install / uninstall as a change set: the startup file, the installation record and the file
that enables the Jupyter server extension."""

from __future__ import annotations

import json
from pathlib import Path

from . import installation, paths
from .changes import ChangeSet, FileChange
from .resources import resource_path

SERVER_EXTENSION_CONFIG = {"ServerApp": {"jpserver_extensions": {"jupyter_helpers": True}}}


def startup_file(profile: str) -> Path:
    return paths.profile_dir(profile) / "startup" / paths.STARTUP_FILE_NAME


def startup_content() -> bytes:
    return resource_path("startup", paths.STARTUP_FILE_NAME).read_bytes()


def change_set(profile: str) -> ChangeSet:
    return ChangeSet(paths.profile_dir(profile) / paths.STATE_DIR_NAME)


def planned_changes(profile: str) -> list[FileChange]:
    profile_location = paths.profile_dir(profile)
    return [
        FileChange(startup_file(profile), startup_content()),
        FileChange(installation.record_path(profile_location), installation.current().to_bytes()),
        FileChange(paths.server_extension_file(), (json.dumps(SERVER_EXTENSION_CONFIG, indent=2) + "\n").encode()),
    ]


def install(profile: str, dry_run: bool = False) -> list[tuple[str, Path]]:
    changes = planned_changes(profile)
    target = change_set(profile)
    return target.plan(changes) if dry_run else target.apply(changes)


def uninstall(profile: str) -> list[tuple[str, Path]]:
    target = change_set(profile)
    return target.revert() if target.recorded() else []
