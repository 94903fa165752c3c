"""The project's name in every page title: the configuration, and the script for logged-in pages.

The script (templates/title_script.html.j2) gets the folder -> project map as seen from the
server's root and keeps the suffix on whatever title the front end sets (see server/pages.py for
how it reaches the pages).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from traitlets import Dict, Enum, Unicode
from traitlets.config import Configurable

from ..common.errors import UserError
from ..common.projects import DEFAULT_TITLE_FORMAT, ProjectMap, ProjectMapError, ProjectStore, validate
from .pages import install_script, jinja_environments, render_script

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

    def script_config(self, root_dir: str, base_url: str) -> dict[str, Any]:
        if "{title}" not in self.title_format or "{project}" not in self.title_format:
            raise ProjectMapError(
                f"c.ProjectTitles.title_format must contain {{title}} and {{project}}, got {self.title_format!r}"
            )
        view = self.project_map().server_view(root_dir, self.unmapped)
        return {**view, "format": self.title_format, "base_url": base_url}


def start(serverapp: Any) -> None:
    """Runs in the extension's start hook, after every other extension made its environments."""
    titles = ProjectTitles(parent=serverapp)
    try:
        config = titles.script_config(serverapp.root_dir, serverapp.base_url)
    except UserError as exc:  # a bad map, or no user config to read it from (JUPYTER_NO_CONFIG)
        serverapp.log.error("jupyter-helpers: window titles get no project name: %s", exc)
        return
    environments = jinja_environments(serverapp.web_app.settings)
    install_script(environments, SCRIPT_GLOBAL, render_script("title_script.html.j2", config))
    serverapp.log.info(
        "jupyter-helpers: project names added to page titles (%d template environments)", len(environments)
    )
    if not titles.projects and not titles.store().path.exists():
        serverapp.log.warning(
            "jupyter-helpers: no project map at %s, so titles show the server folder's name; "
            "map folders with `jupyter-helpers projects add FOLDER NAME` and restart the server",
            titles.store().path,
        )
