"""A real Jupyter server on 127.0.0.1 for tests: started as a user would, stopped for sure."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from support.processes import free_port, stop_process
from support.slow import starts_a_process

BIN = Path(sys.executable).parent
TOKEN = "test-token"
BASE_URL = "/jh/"


def isolated_env(home: Path) -> dict[str, str]:
    """This process's environment with every per-user location moved under `home`."""
    env = {k: v for k, v in os.environ.items() if k not in {"JPY_SESSION_NAME", "JUPYTER_HELPERS_SYSROOT"}}
    env.update(
        {
            "HOME": str(home),
            "IPYTHONDIR": str(home / ".ipython"),
            "JUPYTER_CONFIG_DIR": str(home / ".jupyter"),
            "JUPYTER_DATA_DIR": str(home / ".local/share/jupyter"),
            "JUPYTER_RUNTIME_DIR": str(home / ".local/share/jupyter/runtime"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_DATA_HOME": str(home / ".local/share"),
        }
    )
    return env


def in_process_config(**sections: dict) -> dict:
    """`jp_server_config` for a server in the test process with the extension on (and, as for
    JupyterServer, heartbeats off unless `ActivityWatch` says otherwise)."""
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_helpers": True}},
        **sections,
        "ActivityWatch": {"heartbeats": False, **sections.get("ActivityWatch", {})},
    }


async def start_extensions(app) -> None:
    """The extensions' start hooks for a server in the test process, which a server runs once its
    event loop turns."""
    await app.extension_manager.start_all_extensions()


@starts_a_process
async def open_session(jp_fetch, path: str = "a.ipynb") -> str:
    """A notebook session with a real kernel in a server in the test process, as a front end opens
    it; returns the kernel id."""
    response = await jp_fetch(
        "api",
        "sessions",
        method="POST",
        body=json.dumps({"path": path, "type": "notebook", "name": path, "kernel": {"name": "python3"}}),
    )
    return json.loads(response.body)["kernel"]["id"]


class JupyterServer:
    def __init__(
        self,
        command: str,
        root_dir: Path,
        env: dict[str, str],
        log: Path,
        ready_marker: bytes = b"is running at:",
        wrapper: list[str] | None = None,
        heartbeats: bool = False,
        bin: Path = BIN,
        terminal: bool = False,
    ) -> None:
        """`ready_marker`: a log line to wait for (e.g. the title extension's start message).
        `wrapper`: a command the server is started through (it must exec its arguments).
        `heartbeats`: as the config says; by default off, so that an ActivityWatch running on the
        test machine (127.0.0.1:5600) never gets a test's time. `bin`: the environment whose
        `jupyter` runs (support.environments), by default the test environment's.
        `terminal`: standard input is a terminal (a pty), as when a user started it in a shell: Ctrl-C
        (SIGINT) then asks for confirmation and a second one stops the server through its shutdown
        (without a terminal, jupyter_server lets SIGINT end the process without it)."""
        self.ready_marker = ready_marker
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{BASE_URL}"
        self.log = log
        self._handle = log.open("wb")
        self._terminal = pty.openpty() if terminal else None
        self.process = subprocess.Popen(
            [
                *(wrapper or []),
                str(bin / "jupyter"),
                command,
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={self.port}",
                "--allow-root",
                f"--IdentityProvider.token={TOKEN}",
                f"--ServerApp.base_url={BASE_URL}",
                f"--ServerApp.root_dir={root_dir}",
                *([] if heartbeats else ["--ActivityWatch.heartbeats=False"]),
            ],
            env=env,
            stdin=self._terminal[1] if self._terminal else subprocess.DEVNULL,
            stdout=self._handle,
            stderr=subprocess.STDOUT,
            cwd=root_dir,
        )
        self._wait_ready(timeout=90)

    def get(self, path: str) -> bytes:
        request = urllib.request.Request(self.url + path, headers={"Authorization": f"token {TOKEN}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read()

    def api(
        self, path: str, method: str = "GET", body: object = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        """Status and body of a request with the token; `body`: bytes as they are, else JSON."""
        data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
        kind = {} if body is None or isinstance(body, bytes) else {"Content-Type": "application/json"}
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Authorization": f"token {TOKEN}", **kind, **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def visit(self, path: str, logged_in: bool = False) -> tuple[int, bytes]:
        """Status and body of `path`, error pages included, for a visitor who has not logged in
        (no token, no cookie) or, with `logged_in`, for the user (the token)."""
        headers = {"Authorization": f"token {TOKEN}"} if logged_in else {}
        try:
            with urllib.request.urlopen(
                urllib.request.Request(self.url + path, headers=headers), timeout=30
            ) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyter exited early:\n{self.log.read_text()}")
            if self.ready_marker in self.log.read_bytes():
                try:
                    self.get("api/status")
                    return
                except OSError:
                    pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"jupyter did not answer within {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        stop_process(self.process, grace=30)
        self._handle.close()
        if self._terminal:
            for fd in self._terminal:
                os.close(fd)
            self._terminal = None

    def interrupt(self) -> None:
        """Ctrl-C twice in the server's terminal (the second skips the question); returns once it exited."""
        assert self._terminal, "start the server with terminal=True"
        self.process.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 30
        while b"Shut down this Jupyter server" not in self.log.read_bytes():
            assert time.monotonic() < deadline, "the server did not ask whether to shut down"
            time.sleep(0.05)
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=60)

    def __enter__(self) -> JupyterServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
