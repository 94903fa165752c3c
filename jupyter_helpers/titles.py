"""The Jupyter server extension that puts the project's name into every page title.

In its start hook (run after every other extension has created its Jinja environment) it wraps
the loader of each `jinja2_env` / `<name>_jinja2_env` in the server's settings, so every template
with a `</title>` gets a call right after it: Notebook 7, JupyterLab, nbclassic and error pages
alike. Files, nbconvert output and the REST API are not Jinja pages and stay as they are.

The call decides per page, from the page's own template context (`logged_in`, which
jupyter_server puts in every page's namespace, and the template's name), so the project map
(folders and names) reaches only a logged-in user's pages: `/login`, `/logout` and the 404 a
visitor sees before logging in carry no script at all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, Environment, pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from traitlets import Dict, Enum, Unicode
from traitlets.config import Configurable

from .projects import DEFAULT_TITLE_FORMAT, ProjectMap, ProjectMapError, ProjectStore, validate
from .resources import resource_path

SCRIPT_GLOBAL = "jupyter_helpers_title_script"
PAGES_BEFORE_LOGIN = frozenset({"login.html", "logout.html"})


class ProjectTitles(Configurable):
    """`c.ProjectTitles.<option>` in jupyter_server_config.py."""

    projects = Dict(
        key_trait=Unicode(), value_trait=Unicode(),
        help="Folder -> project name, on top of the map file (these win).",
    ).tag(config=True)
    map_file = Unicode(help="The folder -> project map (default: jupyter_helpers_projects.json "
                            "in the Jupyter config dir).").tag(config=True)
    title_format = Unicode(DEFAULT_TITLE_FORMAT, help="How the project joins the page title.").tag(config=True)
    unmapped = Enum(["root", "none"], "root", help="Pages of no mapped folder: 'root' shows the server "
                                                   "folder's name, 'none' adds nothing.").tag(config=True)

    def project_map(self) -> ProjectMap:
        store = ProjectStore(Path(self.map_file)) if self.map_file else ProjectStore.default()
        from_file = store.load()
        from_config = validate({"folders": dict(self.projects)}, "c.ProjectTitles.projects")
        return ProjectMap({**from_file.folders, **from_config.folders})

    def script_config(self, root_dir: str, base_url: str) -> dict:
        if "{title}" not in self.title_format or "{project}" not in self.title_format:
            raise ProjectMapError(f"c.ProjectTitles.title_format must contain {{title}} and {{project}}, "
                                  f"got {self.title_format!r}")
        view = self.project_map().server_view(root_dir, self.unmapped)
        return {**view, "format": self.title_format, "base_url": base_url}


def render_script(config: dict) -> Markup:
    template = Environment(autoescape=True).from_string(resource_path("templates", "title_script.html.j2").read_text())
    return Markup(template.render(config=config))


def shows_project_map(template: str | None, logged_in: object) -> bool:
    """Only a logged-in user's pages get the map; the logout page is rendered for a user who
    has just stopped being one. `logged_in` comes from jupyter_server's template namespace:
    anything but True (missing, a template rendered outside it) counts as a visitor."""
    return logged_in is True and template not in PAGES_BEFORE_LOGIN


def script_for_page(script: Markup) -> Callable[[Context], Markup]:
    """The Jinja global the templates call: the script, or nothing, decided per rendered page."""
    @pass_context
    def title_script(context: Context) -> Markup:
        return script if shows_project_map(context.name, context.get("logged_in")) else Markup("")

    return title_script


class ScriptAfterTitleLoader(BaseLoader):
    """Any loader's templates, with a call to the Jinja global `name` after the first </title>.

    A call, not the script itself: the global decides per rendered page (see `script_for_page`)."""

    def __init__(self, inner: BaseLoader, name: str) -> None:
        self.inner = inner
        self.name = name

    def get_source(self, environment: Environment, template: str) -> tuple[str, str | None, Any]:
        source, filename, uptodate = self.inner.get_source(environment, template)
        if "</title>" in source and self.name not in source:
            source = source.replace("</title>", "</title>{{ " + self.name + "() }}", 1)
        return source, filename, uptodate

    def list_templates(self) -> list[str]:
        return self.inner.list_templates()


def _inserts(loader: BaseLoader | None, name: str) -> bool:
    """Whether a loader in this chain of wrappers already inserts `name` (a second start hook run)."""
    while isinstance(loader, ScriptAfterTitleLoader):
        if loader.name == name:
            return True
        loader = loader.inner
    return False


def jinja_environments(settings: dict) -> list[Environment]:
    return [
        value for key, value in settings.items()
        if (key == "jinja2_env" or key.endswith("_jinja2_env")) and isinstance(value, Environment)
    ]


def install_script(environments: list[Environment], name: str, script: Markup) -> None:
    """Every page of these environments calls `name` after its </title>; logged-in pages get `script`."""
    for env in environments:
        if not _inserts(env.loader, name):
            env.loader = ScriptAfterTitleLoader(env.loader, name)
        env.globals[name] = script_for_page(script)
        if env.cache is not None:
            env.cache.clear()


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Nothing to do yet: other extensions create their Jinja environments after this runs."""


async def _start_jupyter_server_extension(serverapp: Any) -> None:
    try:
        config = ProjectTitles(parent=serverapp).script_config(serverapp.root_dir, serverapp.base_url)
    except ProjectMapError as exc:
        serverapp.log.error("jupyter-helpers: window titles get no project name: %s", exc)
        return
    environments = jinja_environments(serverapp.web_app.settings)
    install_script(environments, SCRIPT_GLOBAL, render_script(config))
    serverapp.log.info("jupyter-helpers: project names added to page titles (%d template environments)",
                       len(environments))
