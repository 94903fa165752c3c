"""Child servers in tests: a free loopback port, and a stop that always ends the process."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

KILLPOINT = Path(__file__).parent / "killpoint"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RefusingPort:
    """A loopback port where nothing listens, kept so: bound in this process but not listening, so
    connections are refused at once and no other process can take it until `release()`. A port
    that was merely free at collection time could be a kernel's by the time the test ran (a loaded
    CI run: requests to it hung until their time limit instead of being refused)."""

    def __init__(self) -> None:
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def release(self) -> int:
        """The port, for a server of the test's own to listen on from now."""
        self._socket.close()
        return self.port


def stop_process(process: subprocess.Popen, grace: float) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds: no test leaves a server behind."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def killed_after(step: int, *command: str) -> bool:
    """Runs `jupyter-helpers COMMAND` (in the home the environment points at) and SIGKILLs it right
    after its `step`th file-system step (support/killpoint); False when it finished before that step."""
    env = {**os.environ, "PYTHONPATH": str(KILLPOINT), "JH_KILL_AFTER": str(step)}
    done = subprocess.run(
        [str(BIN / "jupyter-helpers"), *command], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    return done.returncode == -signal.SIGKILL


# The CLI's own peak resident memory (VmHWM of its address space, which exec starts afresh). A
# child's ru_maxrss would not do: it includes the parent's memory when the child was spawned.
_MEASURED = """import sys
from jupyter_helpers.cli import main
code = main(sys.argv[1:])
sys.stderr.write(next(line for line in open("/proc/self/status") if line.startswith("VmHWM:")))
sys.exit(code)
"""


def cli_peak_memory(*args: str, **kwargs) -> tuple[subprocess.CompletedProcess, float]:
    """Runs `jupyter-helpers ARGS` (its `main`, in a fresh interpreter) and returns what it did and
    its peak resident memory in MB; the last line of its stderr is the measurement, not its own."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURED, *args], capture_output=True, text=True, timeout=600, check=False, **kwargs
    )
    *rest, measured = done.stderr.splitlines(keepends=True) or ["VmHWM: 0 kB"]
    done.stderr = "".join(rest)
    return done, int(measured.split()[1]) / 1024
