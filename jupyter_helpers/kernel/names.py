"""Which notebook this kernel runs, as a path, or None when that cannot be known for sure.

Jupyter's server tells the kernels it starts (JPY_SESSION_NAME, `__session__`), VS Code sets
`__vsc_ipynb_file__` in the kernels it starts. nbconvert and
papermill start kernels themselves and only name the notebook on their own command line, which
is parsed here by their own rules: nbconvert (traitlets) executes every input in turn, one kernel
each, so a kernel learns its place from the order kernels of that nbconvert process started (kept in
a small state file under a lock) and checks it against its working directory, which nbconvert sets
to the notebook's folder. Better no name than a wrong one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# traitlets flags of `jupyter nbconvert` (take no value); any other `--name` takes the next token.
# tests/test_names.py checks this list against the installed nbconvert.
NBCONVERT_FLAGS = frozenset(
    {
        "allow-chromium-download",
        "allow-errors",
        "clear-output",
        "coalesce-streams",
        "debug",
        "disable-chromium-sandbox",
        "embed-images",
        "execute",
        "generate-config",
        "inplace",
        "no-input",
        "no-prompt",
        "sanitize-html",
        "show-config",
        "show-config-json",
        "show-input",
        "stdin",
        "stdout",
        "y",
        "help",
        "help-all",
        "version",
    }
)
# papermill (click) options and how many values each takes; every other option is a flag.
PAPERMILL_VALUES = {
    "-p": 2,
    "--parameters": 2,
    "-r": 2,
    "--parameters_raw": 2,
    "-f": 1,
    "--parameters_file": 1,
    "-y": 1,
    "--parameters_yaml": 1,
    "-b": 1,
    "--parameters_base64": 1,
    "--engine": 1,
    "-k": 1,
    "--kernel": 1,
    "-l": 1,
    "--language": 1,
    "--cwd": 1,
    "--stdout-file": 1,
    "--stderr-file": 1,
    "--log-level": 1,
    "--start-timeout": 1,
    "--start_timeout": 1,
    "--execution-timeout": 1,
    "--autosave-cell-every": 1,
}


@dataclass(frozen=True)
class Launch:
    """How the process that started this kernel named notebooks (read once, at kernel start)."""

    tool: str  # "nbconvert" or "papermill"
    inputs: tuple[str, ...]  # executed notebooks, relative to `cwd`, in execution order
    cwd: str  # the tool's working directory
    position: int | None  # this kernel's place among the tool's kernels (nbconvert), if known
    kernel_cwd: str


def session_path(shell: Any) -> str | None:
    """The notebook path Jupyter's server gave this kernel, made absolute."""
    session = os.environ.get("JPY_SESSION_NAME") or shell.user_ns.get("__session__")
    if not isinstance(session, str) or not session:
        return None
    if os.path.isabs(session):
        return session
    # an API path relative to the server root: the kernel runs in the notebook's folder
    return os.path.join(os.getcwd(), os.path.basename(session))


def vscode_path(shell: Any) -> str | None:
    """VS Code starts kernels itself (`python -m ipykernel_launcher -f FILE`, no Jupyter server)
    and then runs `__vsc_ipynb_file__ = "<path>"` in them, after the startup files: read when a
    message is made, never at load."""
    path = shell.user_ns.get("__vsc_ipynb_file__")
    return path if isinstance(path, str) and os.path.isabs(path) else None


def notebook_path(shell: Any, launch: Launch | None) -> str | None:
    """A tool that started this kernel outranks JPY_SESSION_NAME, which a `!jupyter nbconvert`
    run from inside a notebook inherits from the outer one; VS Code names only kernels it
    started."""
    return executed_notebook(launch) if launch else vscode_path(shell) or session_path(shell)


def tool_arguments(argv: list[str]) -> tuple[str, list[str]] | None:
    """("nbconvert" | "papermill", its arguments) when argv is one of those tools."""
    for index, arg in enumerate(argv[:4]):
        name = os.path.basename(arg)
        previous = os.path.basename(argv[index - 1]) if index else ""
        if name == "jupyter-nbconvert" or (name == "nbconvert" and previous in ("-m", "jupyter")):
            return "nbconvert", argv[index + 1 :]
        if name == "papermill":
            return "papermill", argv[index + 1 :]
    return None


def nbconvert_patterns(args: list[str]) -> list[str] | None:
    """The notebook patterns among nbconvert's arguments (traitlets' rules: a known flag takes no
    value, `--name=value` is one token, any other `--name` takes the next one, `--` ends options).
    None when the notebook comes from standard input."""
    patterns: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--":
            patterns.extend(args[index:])
            break
        if arg.startswith("-") and arg != "-":
            name = arg.lstrip("-")
            if name == "stdin":
                return None
            if "=" not in name and name not in NBCONVERT_FLAGS:
                index += 1
            continue
        patterns.append(arg)
    return patterns


def papermill_input(args: list[str]) -> str | None:
    """papermill's INPUT (its first positional argument), None for `-` (standard input)."""
    index = 0
    while index < len(args):
        arg = args[index]
        index += 1
        if arg == "--":
            rest = args[index:]
            return rest[0] if rest and rest[0] != "-" else None
        if arg.startswith("-") and arg != "-":
            if "=" in arg:
                continue
            if arg in PAPERMILL_VALUES:
                index += PAPERMILL_VALUES[arg]
            continue
        return None if arg == "-" else arg
    return None


def expand_patterns(patterns: list[str], cwd: str) -> list[str]:
    """nbconvert's own expansion: glob each pattern (and pattern + .ipynb), drop repeats, keep order."""
    import glob

    found: list[str] = []
    for pattern in patterns:
        matches = glob.glob(pattern, root_dir=cwd) + glob.glob(pattern + ".ipynb", root_dir=cwd)
        found.extend(match for match in matches if match not in found)
    return found


def _same_dir(a: str, b: str) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def executed_notebook(launch: Launch) -> str | None:
    """The absolute path of the notebook this kernel runs, or None when it cannot be known."""
    if launch.tool == "papermill" or len(launch.inputs) == 1:
        return os.path.join(launch.cwd, launch.inputs[0]) if launch.inputs else None

    def here(name: str) -> bool:
        return _same_dir(os.path.dirname(os.path.join(launch.cwd, name)), launch.kernel_cwd)

    if launch.position is not None and launch.position < len(launch.inputs):
        candidate = launch.inputs[launch.position]
        if here(candidate):
            return os.path.join(launch.cwd, candidate)
    local = [name for name in launch.inputs if here(name)]
    return os.path.join(launch.cwd, local[0]) if len(local) == 1 else None


def _parent() -> tuple[list[str], str, str] | None:
    """The parent's argv, working directory and start time (which, with its pid, names it uniquely)."""
    parent = f"/proc/{os.getppid()}"
    try:
        argv = Path(parent, "cmdline").read_bytes().split(b"\0")[:-1]
        cwd = os.readlink(f"{parent}/cwd")
        started = Path(parent, "stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None
    return [os.fsdecode(arg) for arg in argv], cwd, started


def _claim_position(inputs: list[str], key: str) -> tuple[list[str], int | None]:
    """Counts this kernel among those the same nbconvert process started, in a state file under a
    lock. The first kernel records the inputs as nbconvert globbed them (before any output file
    appeared). Returns (inputs, position)."""
    import fcntl
    import tempfile

    folder = Path(tempfile.gettempdir()) / f"jupyter-helpers-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(folder)
        if info.st_uid != os.getuid() or info.st_mode & 0o077 or not os.path.isdir(folder) or folder.is_symlink():
            return inputs, None  # someone else's (shared /tmp): do not trust or write it
        fd = os.open(folder / f"nbconvert-{key}.json", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    except OSError:
        return inputs, None
    with os.fdopen(fd, "r+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            state = json.loads(handle.read() or "null") or {"inputs": inputs, "started": 0}
            position = state["started"]
            state["started"] += 1
            handle.seek(0)
            handle.truncate()
            json.dump(state, handle)
        except (OSError, ValueError, KeyError, TypeError):
            return inputs, None
    if position >= len(state["inputs"]) - 1:
        Path(folder, f"nbconvert-{key}.json").unlink(missing_ok=True)
    return list(state["inputs"]), position


def launch_from_parent() -> Launch | None:
    """Read once at kernel start: the order of kernel starts is only known then."""
    parent = _parent()
    if parent is None:
        return None
    argv, cwd, started = parent
    found = tool_arguments(argv)
    if found is None:
        return None
    tool, args = found
    kernel_cwd = os.getcwd()
    if tool == "papermill":
        notebook = papermill_input(args)
        return Launch(tool, (notebook,) if notebook else (), cwd, None, kernel_cwd)
    patterns = nbconvert_patterns(args)
    if patterns is None:
        return Launch(tool, (), cwd, None, kernel_cwd)
    inputs = expand_patterns(patterns, cwd)
    position = None
    if len(inputs) > 1 or any(set("*?[") & set(pattern) for pattern in patterns):
        inputs, position = _claim_position(inputs, f"{os.getppid()}-{started}")
    return Launch(tool, tuple(inputs), cwd, position, kernel_cwd)
