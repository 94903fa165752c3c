"""The package's shape: each runtime imports only what it may, and no module imports itself back.

Every import counts, the lazy ones inside functions included: a lazy import still runs in the
runtime that calls it. The rules are DESIGN's (CONTRIBUTING.md, "Layout"): every runtime may use
`common/`, none uses another runtime, and each may use only the third-party packages its process
is sure to have.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import jupyter_helpers

PACKAGE = Path(jupyter_helpers.__file__).resolve().parent
OURS = "jupyter_helpers"

# runtime -> (our packages it may import, third-party top-level modules it may import)
RULES: dict[str, tuple[set[str], set[str]]] = {
    "common": ({"common"}, set()),
    "kernel": ({"common", "kernel"}, {"IPython", "traitlets"}),
    "delivery": ({"common", "delivery"}, {"ntfy", "telegram_send", "telegram", "ruamel"}),
    "server": (
        {"common", "server"},
        {"jupyter_server", "jupyter_client", "zmq", "tornado", "jinja2", "markupsafe", "traitlets"},
    ),
    "installer": ({"common", "installer"}, {"jupyter_core", "traitlets"}),
    "activitywatch": ({"common", "activitywatch"}, set()),
    # the ways in: the CLI, and the package itself (IPython's extension hooks, the server's points)
    "cli": ({"common", "installer", "activitywatch"}, set()),
    "__main__": ({"cli"}, set()),
    "__init__": ({"common", "kernel", "server"}, set()),  # server: only inside the server's extension point
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def is_package(name: str, known: dict[str, Path]) -> bool:
    return known[name].name == "__init__.py"


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every module `name` imports, anywhere in its body, as absolute dotted names; `from X import
    y` names X.y when that is one of our modules (a submodule), else X."""
    found: set[str] = set()
    package = name if is_package(name, known) else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                candidate = f"{source}.{alias.name}"
                found.add(candidate if candidate in known else source)
    return found


def runtime_of(name: str) -> str:
    parts = name.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def test_every_module_belongs_to_a_runtime_with_rules() -> None:
    strays = sorted(name for name in modules() if runtime_of(name) not in RULES)
    assert not strays, f"modules outside the runtime folders (add them to one, or a rule here): {strays}"


@pytest.mark.parametrize("runtime", sorted(RULES))
def test_runtime_imports_only_what_it_may(runtime: str) -> None:
    ours, third_party = RULES[runtime]
    wrong = []
    for name, targets in graph().items():
        if runtime_of(name) != runtime:
            continue
        for target in sorted(targets):
            top = target.split(".")[0]
            if top == OURS:
                if target != OURS and runtime_of(target) not in ours:
                    wrong.append(f"{name} -> {target}")
            elif top not in sys.stdlib_module_names and top != "__future__" and top not in third_party:
                wrong.append(f"{name} -> {target}")
    assert not wrong, f"{runtime} may import {sorted(ours)} and {sorted(third_party) or 'no third party'}: {wrong}"


def test_no_import_cycle_lazy_imports_included() -> None:
    edges = {name: {t for t in targets if t.split(".")[0] == OURS} for name, targets in graph().items()}
    cycles, index, low, stack, on_stack = [], {}, {}, [], set()

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in edges.get(node, ()):
                cycles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    assert not cycles, f"import cycles: {cycles}"


def test_the_graph_sees_lazy_and_relative_imports() -> None:
    """The checks above are only as good as the parser: it must see what the code really imports."""
    found = graph()
    assert "jupyter_helpers.kernel.extension" in found["jupyter_helpers"]  # lazy, relative
    assert "jupyter_helpers.common.sender" in found["jupyter_helpers.kernel.extension"]  # lazy, two levels up
    assert "jupyter_core.paths" in found["jupyter_helpers.installer.effective_config"]  # lazy, absolute
