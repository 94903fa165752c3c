"""The project's name in every page title: the configuration, and the script for logged-in pages.

The script (templates/title_script.html.j2) gets the folder -> project map as seen from the
server's root and keeps the suffix on whatever title the front end sets (see server/pages.py for
how it reaches the pages).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from traitlets import Dict, Enum, Unicode
from traitlets.config import Configurable

from ..common.errors import UserError
from ..common.projects import DEFAULT_TITLE_FORMAT, ProjectMap, ProjectMapError, ProjectStore, validate

SCRIPT_GLOBAL = "jupyter_helpers_title_script"


class ProjectTitles(Configurable):
    """`c.ProjectTitles.<option>` in jupyter_server_config.py."""

    projects = Dict(
        key_trait=Unicode(),
        value_trait=Unicode(),
        help="Folder -> project name, on top of the map file (these win).",
    ).tag(config=True)
    map_file = Unicode(
        help="The folder -> project map (default: jupyter_helpers_projects.json in the Jupyter config dir)."
    ).tag(config=True)
    title_format = Unicode(DEFAULT_TITLE_FORMAT, help="How the project joins the page title.").tag(config=True)
    unmapped = Enum(
        ["root", "none"],
        "root",
        help="Pages of no mapped folder: 'root' shows the server folder's name, 'none' adds nothing.",
    ).tag(config=True)

    def store(self) -> ProjectStore:
        return ProjectStore(Path(self.map_file)) if self.map_file else ProjectStore.default()

    def project_map(self) -> ProjectMap:
        from_file = self.store().load()
        from_config = validate({"folders": dict(self.projects)}, "c.ProjectTitles.projects")
        return ProjectMap({**from_file.folders, **from_config.folders})

    def script_config(self, projects: ProjectMap, root_dir: str, base_url: str) -> dict[str, Any]:
        if "{title}" not in self.title_format or "{project}" not in self.title_format:
            raise ProjectMapError(
                f"c.ProjectTitles.title_format must contain {{title}} and {{project}}, got {self.title_format!r}"
            )
        view = projects.server_view(root_dir, self.unmapped)
        return {**view, "format": self.title_format, "base_url": base_url}

    def missing_map(self) -> Path | None:
        """The map file, when neither it nor c.ProjectTitles.projects maps anything."""
        path = self.store().path
        return None if self.projects or path.exists() else path


@dataclass(frozen=True)
class TitleSetup:
    """The title script's config, or why titles get no project name; and the map read for it
    (which heartbeats use too: empty when it cannot be read)."""

    projects: ProjectMap
    script: dict[str, Any] | None
    problem: str = ""


def read_setup(titles: ProjectTitles, root_dir: str, base_url: str) -> TitleSetup:
    """Reads the project map once, at the server's start."""
    try:
        projects = titles.project_map()
    except UserError as exc:  # a bad map, or no user config to read it from (JUPYTER_NO_CONFIG)
        return TitleSetup(ProjectMap(), None, str(exc))
    try:
        return TitleSetup(projects, titles.script_config(projects, root_dir, base_url))
    except UserError as exc:
        return TitleSetup(projects, None, str(exc))


SCRIPT_TEMPLATE = "title_script.html.j2"
