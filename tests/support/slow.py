"""Which tests are slow: those that reach a real part (a process, a kernel, a browser).

A test is slow when its function, or any fixture it uses (directly or through other fixtures), can
reach one of `STARTERS`: following the names its bytecode loads (`run_cli`, `JupyterServer`,
`ActivityWatch`, `open_kernel`, `Sender`, `subprocess.run`, a lazy `from support.kernels import
...`) into every function and class defined in tests/ (test modules, conftest, support/) or in the
product, however deep (except the CLI's `main`, see `_opaque`). Nobody keeps a list of slow modules
or fixtures: a new helper that starts a process marks every test that uses it. Helpers whose code
does not show the process (a kernel started through a server's REST API) say so with
`@starts_a_process`. What neither catches (a command run in-process through `cli.main`, a method
called on an object built elsewhere) the fast-loop guard does: a test not marked slow that starts a
process fails, saying to mark it `@pytest.mark.slow` (`guard` below, applied by tests/conftest.py).
"""

from __future__ import annotations

import asyncio
import dis
import importlib
import inspect
import os
import subprocess
import sys
import types
from collections.abc import Callable, Iterator
from typing import NoReturn, TypeVar

import pytest
from jupyter_client import AsyncKernelManager, KernelManager
from nbclient import NotebookClient

# What starts another process: every real part (kernel, server, aw-server, hub, Chromium, pip, the
# installed CLI, the delivery child) is started through one of these.
STARTER_MODULES = frozenset({"subprocess", "multiprocessing", "pty", "nbclient", "playwright.sync_api"})
STARTERS: frozenset[object] = frozenset(
    {
        subprocess.Popen,
        subprocess.run,
        subprocess.call,
        subprocess.check_call,
        subprocess.check_output,
        subprocess.getoutput,
        subprocess.getstatusoutput,
        os.fork,
        os.system,
        os.popen,
        os.posix_spawn,
        os.posix_spawnp,
        os.execv,
        os.execve,
        os.execvp,
        asyncio.create_subprocess_exec,
        asyncio.create_subprocess_shell,
        # a kernel, through the libraries tests start kernels with
        NotebookClient,
        KernelManager,
        AsyncKernelManager,
    }
)
F = TypeVar("F", bound=Callable)
_LOADS = {"LOAD_GLOBAL", "LOAD_NAME"}
_ATTRS = {"LOAD_ATTR", "LOAD_METHOD"}
_OURS = ("test_", "conftest", "support", "jupyter_helpers")


def _ours(thing: object) -> bool:
    """Defined in tests/ or the product (so worth following into); libraries are not followed."""
    module = getattr(thing, "__module__", None) or ""
    return module.startswith(_OURS) and module != __name__ and not _opaque(thing)


def _opaque(thing: object) -> bool:
    """The CLI's `main` reaches every command; which of them starts a process depends on the
    arguments, so tests calling it in-process are left to the guard (`status` probes the delivery
    child, `projects add` starts nothing)."""
    return getattr(thing, "__module__", None) == "jupyter_helpers.cli" and getattr(thing, "__name__", None) == "main"


def _import(name: str) -> object:
    """Our modules a function imports lazily; a library's is only looked at if already imported
    (importing playwright or jupyter_server to look would cost the fast loop seconds)."""
    if not name.startswith(_OURS):
        return sys.modules.get(name)
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _resolved(code: types.CodeType, namespace: dict) -> Iterator[object]:
    """Every object `code` names: globals, their attribute chains (`subprocess.run`), imports made
    inside the function (`from support.kernels import prepare_kernel_home`)."""
    current: object = None
    constants: list[object] = []
    for instruction in dis.get_instructions(code):
        name = instruction.argval
        if instruction.opname == "LOAD_CONST":
            constants = [*constants[-1:], name]
            continue
        if instruction.opname in _LOADS:
            current = namespace.get(name, None)
        elif instruction.opname in _ATTRS and current is not None:
            current = getattr(current, name, None)
        elif instruction.opname == "IMPORT_NAME":
            level = constants[0] if len(constants) == 2 and isinstance(constants[0], int) else 0
            if level:  # `from .child import WarmChild`
                package = namespace.get("__package__") or ""
                name = ".".join([*package.split(".")[: len(package.split(".")) - level + 1], name]).rstrip(".")
            if name in STARTER_MODULES or name.split(".")[0] in STARTER_MODULES:
                yield subprocess.Popen
            current = _import(name)
        elif instruction.opname == "IMPORT_FROM" and current is not None:
            found = getattr(current, name, None)
            yield found if found is not None else _import(f"{getattr(current, '__name__', '')}.{name}")
            continue
        else:
            current = None
        if current is not None:
            yield current


def _codes(code: types.CodeType) -> Iterator[types.CodeType]:
    """A function's code and that of what it defines inside (closures, lambdas, comprehensions)."""
    yield code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _codes(constant)


class Reach:
    """Memoised answers to "does this function, fixture or class reach a starter?"."""

    def __init__(self) -> None:
        self._known: dict[int, bool] = {}

    def starts_processes(self, thing: object) -> bool:
        key = id(thing)
        if key in self._known:
            return self._known[key]
        self._known[key] = False  # a cycle (recursion, mutual helpers) adds nothing
        found = self._search(thing)
        self._known[key] = found
        return found

    def _search(self, thing: object) -> bool:
        if _is_starter(thing):
            return True
        if isinstance(thing, types.ModuleType):  # `subprocess.CompletedProcess` starts nothing
            return False
        if not _ours(thing):
            return False
        if isinstance(thing, type):
            return any(self.starts_processes(member) for member in _members(thing))
        function = inspect_function(thing)
        if function is None:
            return False
        return any(
            self.starts_processes(named)
            for code in _codes(function.__code__)
            for named in _resolved(code, function.__globals__)
        )


_DECLARED: set[object] = set()


def starts_a_process(function: F) -> F:
    """Marks a test helper as a starter where its code does not show one: a kernel started through a
    server's REST API, for one (every test using the helper is then slow)."""
    _DECLARED.add(function)
    return function


def _is_starter(thing: object) -> bool:
    try:
        return thing in STARTERS or thing in _DECLARED
    except TypeError:  # unhashable
        return False


def _members(cls: type) -> Iterator[object]:
    for klass in cls.__mro__:
        if _ours(klass):
            for member in vars(klass).values():
                if isinstance(member, staticmethod | classmethod):
                    member = member.__func__
                elif isinstance(member, property):
                    member = member.fget
                yield member


def inspect_function(thing: object) -> types.FunctionType | None:
    """The plain function behind a function, a method, a fixture definition or a decorated
    callable (`@contextmanager`, hypothesis' `@given`): the code that was written, not the wrapper's."""
    thing = getattr(thing, "__func__", thing)
    try:
        thing = inspect.unwrap(thing)  # type: ignore[arg-type]
    except ValueError:  # a cycle of __wrapped__
        return None
    inner = getattr(getattr(thing, "hypothesis", None), "inner_test", None)
    if inner is not None:
        thing = inspect.unwrap(inner)
    return thing if isinstance(thing, types.FunctionType) else None


def fixture_functions(item: pytest.Item) -> Iterator[Callable]:
    """The functions of every fixture the test uses, through other fixtures too."""
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return
    for name in item.fixturenames:  # type: ignore[attr-defined]  # the closure, transitive
        for definition in info.name2fixturedefs.get(name, ()):
            yield definition.func


def reaches_real_parts(item: pytest.Item, reach: Reach) -> bool:
    test = getattr(item, "function", None)
    return (test is not None and reach.starts_processes(test)) or any(
        reach.starts_processes(function) for function in fixture_functions(item)
    )


# Processes libraries start for themselves, not real parts: jupyter_server asks `git rev-parse` for its
# own commit when it is installed under a git checkout (a venv inside a worktree), and its system info
# asks `platform`, which runs `uname -p` once per process.
NOT_REAL_PARTS = frozenset({"git", "uname"})


def guard(item: pytest.Item, monkeypatch: pytest.MonkeyPatch) -> None:
    """In a test not marked slow, starting a process fails at once with what to do."""
    where = item.nodeid
    popen_init = subprocess.Popen.__init__

    def refuse(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError(
            f"{where} starts a process but is not marked slow: the fast loop (pytest -m 'not slow') runs "
            "in-process tests only. Tests reaching a starter through tests/ or product code are marked by "
            "tests/support/slow.py; one that starts a process another way (a command run through cli.main, "
            "a kernel started through a server's API) needs @pytest.mark.slow."
        )

    def checked_popen(self: subprocess.Popen, command: object, *args: object, **kwargs: object) -> None:
        program = command[0] if isinstance(command, list | tuple) and command else command
        if os.path.basename(str(program)) not in NOT_REAL_PARTS:
            refuse()
        popen_init(self, command, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(subprocess.Popen, "__init__", checked_popen)
    for name in ("fork", "posix_spawn", "posix_spawnp", "system"):
        monkeypatch.setattr(os, name, refuse)
