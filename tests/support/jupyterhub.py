"""A real JupyterHub on 127.0.0.1 for tests: dummy login, configurable-http-proxy from npm, and
single-user servers run from a given environment, each user with a HOME of their own.

The spawner is JupyterHub's `SimpleLocalProcessSpawner`: LocalProcessSpawner without switching
to a system user (these machines run everything as root and have no users alice and bob), with
`HOME` set per hub user from `home_dir_template`. Everything the real spawner sets for a
single-user server (`JUPYTERHUB_USER`, `JUPYTERHUB_DISABLE_USER_CONFIG`, `c.Spawner.environment`,
the OAuth client) is set the same way.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from support.processes import free_port, stop_process

BIN = Path(sys.executable).parent
SERVICE_TOKEN = "hub-test-service-token-0123456789abcdef"
PROXY = "configurable-http-proxy"


def require_proxy() -> str:
    """configurable-http-proxy from npm (.ci/run installs it); skip without it, fail in CI."""
    found = shutil.which(PROXY)
    if found is None:
        problem = f"{PROXY} not found (npm install -g {PROXY})"
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"JupyterHub tests must run in CI: {problem}")
        pytest.skip(problem)
    return found


class JupyterHub:
    def __init__(
        self, base: Path, singleuser: Path, users: list[str], settings: str, environment: dict[str, str]
    ) -> None:
        """`singleuser`: the `jupyterhub-singleuser` to run; `settings`: more config lines;
        `environment`: `c.Spawner.environment` (what every single-user server gets)."""
        proxy = require_proxy()
        self.base = base
        self.homes = base / "homes"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        config = base / "jupyterhub_config.py"
        config.write_text(
            f"""
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {self.port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {free_port()}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.pid_file = {str(base / "proxy.pid")!r}
c.JupyterHub.db_url = "sqlite:///{base / "jupyterhub.sqlite"}"
c.JupyterHub.cookie_secret_file = {str(base / "cookie_secret")!r}
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {set(users)!r}
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(self.homes / "{username}")!r}
c.Spawner.cmd = [{str(singleuser)!r}]
c.Spawner.args = ["--allow-root"]
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
c.Spawner.environment = {environment!r}
c.JupyterHub.services = [{{"name": "tester", "api_token": {SERVICE_TOKEN!r}}}]
c.JupyterHub.load_roles = [{{"name": "tester", "services": ["tester"],
    "scopes": ["admin:servers", "admin:server_state", "access:servers", "read:users"]}}]
"""
            + settings
        )
        self.log = base / "jupyterhub.log"
        self._handle = self.log.open("wb")
        self.process = subprocess.Popen(
            [str(BIN / "jupyterhub"), "-f", str(config)], cwd=base, stdout=self._handle, stderr=subprocess.STDOUT
        )
        self.server_pids: list[int] = []
        try:
            self._wait(lambda: self.api("hub/api/") is not None, 90, "answer")
        except BaseException:
            self.stop()
            raise

    def api(self, path: str, method: str = "GET", body: dict | None = None) -> dict | None:
        """The hub's (or a single-user server's) REST API as the test service; None on an error."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method, headers={"Authorization": f"token {SERVICE_TOKEN}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                text = response.read()
        except (OSError, urllib.error.HTTPError):
            return None
        return json.loads(text) if text else {}

    def _wait(self, condition, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyterhub exited early:\n{self.log.read_text()[-5000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyterhub did not {what} within {timeout} s:\n{self.log.read_text()[-5000:]}")
            time.sleep(0.3)

    def start_server(self, user: str) -> int:
        """Starts `user`'s single-user server and waits until it is ready; returns its pid."""
        self.api(f"hub/api/users/{user}/server", "POST", {})

        def ready() -> bool:
            model = self.api(f"hub/api/users/{user}") or {}
            if "" not in model.get("servers", {"": None}) and not model.get("pending"):
                raise RuntimeError(f"{user}'s server failed to start:\n{self.log.read_text()[-5000:]}")
            return bool(model.get("servers", {}).get("", {}).get("ready"))

        self._wait(ready, 150, f"start {user}'s server")
        state = self.api(f"hub/api/users/{user}?include_stopped_servers=0") or {}
        pid = int(state["servers"][""]["state"]["pid"])
        self.server_pids.append(pid)
        return pid

    def stop(self) -> None:
        """The hub stops its servers and its proxy on SIGTERM; whatever is left is killed."""
        stop_process(self.process, grace=60)
        self._handle.close()
        pid_file = self.base / "proxy.pid"
        pids = [*self.server_pids, *([int(pid_file.read_text())] if pid_file.exists() else [])]
        for pid in pids:
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
                if b"jupyterhub-singleuser" in command or PROXY.encode() in command:  # still ours, not a reused id
                    os.kill(pid, signal.SIGKILL)
            except (OSError, ValueError):
                pass

    def __enter__(self) -> JupyterHub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def process_environment(pid: int) -> dict[str, str]:
    """The environment a process was started with (what the spawner gave a single-user server)."""
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)
