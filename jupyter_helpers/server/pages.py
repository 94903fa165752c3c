"""The one way page scripts reach Jupyter's pages: a Jinja loader that calls a global after </title>.

Every front end renders its pages with a Jinja environment of its own (`jinja2_env` and
`<name>_jinja2_env` in the server's settings: Notebook 7, JupyterLab, nbclassic, login and error
pages). Wrapping each environment's loader inserts one call right after the first `</title>` of
every template; files, nbconvert output and the REST API are not Jinja pages and stay as they are.

The call decides per page, from the page's own template context (`logged_in`, which jupyter_server
puts in every page's namespace, and the template's name), so the project map (folders and names)
reaches only a logged-in user's pages: `/login`, `/logout` and the 404 a visitor sees before
logging in carry no script at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from jinja2 import BaseLoader, Environment, FileSystemLoader, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from ..common.resources import resource_path

PAGES_BEFORE_LOGIN = frozenset({"login.html", "logout.html"})


def render_script(template_name: str, config: Mapping[str, object]) -> Markup:
    """A script from `templates/` (which may include other files there), with `config` passed
    through `tojson` (names from disk stay data)."""
    environment = Environment(loader=FileSystemLoader(resource_path("templates")), autoescape=True)
    return Markup(environment.get_template(template_name).render(config=config))


def shows_project_map(template: str | None, logged_in: object) -> bool:
    """Only a logged-in user's pages get the map; the logout page is rendered for a user who
    has just stopped being one. `logged_in` comes from jupyter_server's template namespace:
    anything but True (missing, a template rendered outside it) counts as a visitor."""
    return logged_in is True and template not in PAGES_BEFORE_LOGIN


def script_for_page(script: Markup) -> Callable[[Context], Markup]:
    """The Jinja global the templates call: the script, or nothing, decided per rendered page."""

    @pass_context
    def page_script(context: Context) -> Markup:
        return script if shows_project_map(context.name, context.get("logged_in")) else Markup("")

    return page_script


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


def jinja_environments(settings: Mapping[str, object]) -> list[Environment]:
    return [
        value
        for key, value in settings.items()
        if (key == "jinja2_env" or key.endswith("_jinja2_env")) and isinstance(value, Environment)
    ]


def install_script(environments: list[Environment], name: str, script: Markup) -> None:
    """Every page of these environments calls `name` after its </title>; logged-in pages get `script`."""
    for env in environments:
        if env.loader is not None and not _inserts(env.loader, name):
            env.loader = ScriptAfterTitleLoader(env.loader, name)
        env.globals[name] = script_for_page(script)
        if env.cache is not None:
            env.cache.clear()
