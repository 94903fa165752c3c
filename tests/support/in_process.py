"""The `jupyter-helpers` command run by its `main` inside the test process."""

from __future__ import annotations

import contextlib
import io
import subprocess

from jupyter_helpers.cli import main


def cli_in_process(*args: str) -> subprocess.CompletedProcess:
    """`jupyter-helpers ARGS` through its `main` in this process, whose environment is the test's
    (its home, its fake system root). For the steps around a race or a kill, which check what the
    racing or killed process left: those stay processes of their own, the steps around them need no
    Python start each. Asserts exit code 0."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    done = subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())
    assert code == 0, f"jupyter-helpers {' '.join(args)} exited {code}:\n{done.stdout}{done.stderr}"
    return done
