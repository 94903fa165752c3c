"""Kernel deaths, told by the server: a dead kernel cannot send anything, its server sees it die.

jupyter_client's restarter fires a kernel manager's `restart` callbacks when the kernel process
died on its own, and not for a restart or shutdown a client asked for (the REST API, the UI,
culling, the server stopping: those stop the restarter first). So a `restart` callback is a death;
the exit status is readable then. Each kernel's IOPub is followed (headers only) to know since
when it has been busy and in which cell.

The message goes through the same delivery child the kernels use (common/sender.py: a queue and a
worker thread; never ntfy in the server's process or event loop), with the kernels' own settings
(backend, time limit, presence: common/autonotify.py, read from the files kernels read), and is
held while someone looks at the notebook (common/presence.py `decide`): Jupyter shows its own
dialog then. One log line per death; a failing channel is logged once per kind of failure,
without the token.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from traitlets import Bool, Unicode
from traitlets.config import Configurable
from traitlets.config import loader as config_loaders

from ..common import autonotify, paths
from ..common.memory import Reading, amount, oom_counter, oom_kills, peak_file, take_peak
from ..common.presence import decide, presence_file, read_presence
from ..common.projects import project_of
from ..common.text import TELEGRAM_LIMIT, clean, clean_name, headline, human_duration
from .live import end_live_message

KERNEL_ACTIONS = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"
SETTINGS_KEY = "jupyter_helpers_kernel_watch"
# A kernel that dies again this soon after a death, without having run a cell in between, is in a
# crash loop while Jupyter restarts it (jupyter_client's stable_start_time is 10 s): logged only.
AGAIN_WITHIN = 10.0
_DELIMITER = b"<IDS|MSG>"


class KernelWatch(Configurable):
    """`c.KernelWatch.<option>` in jupyter_server_config.py."""

    enabled = Bool(
        True, help="Send a message when a kernel dies without being asked to (killed, out of memory, crashed)."
    ).tag(config=True)
    profile = Unicode(
        "default",
        help="The IPython profile whose autonotify settings (backend, send_timeout, "
        "when, present_for) and recorded sender the messages use.",
    ).tag(config=True)


def cause(returncode: int | None, out_of_memory: bool, peak: Reading | None = None) -> str | None:
    """How the kernel ended, in words; None for exit code 0 (the kernel ended itself on purpose,
    e.g. `exit()` in a cell). A SIGKILL says the peak memory the kernel saw, when it recorded one
    (kernel/memory.py): `SIGKILL: out of memory; peak 7.0 GB of 7.1 GB`."""
    if returncode is None:
        return "exit status unknown"
    if returncode == 0:
        return None
    if returncode > 0:
        return f"exit code {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = f"signal {-returncode}"
    if -returncode == signal.SIGKILL:
        peak_seen = f"; peak {amount(peak)}" if peak is not None else ""
        return f"{name}: out of memory" + ("" if out_of_memory else "?") + peak_seen
    return name


@dataclass(frozen=True)
class Death:
    notebook: str | None
    project: str | None
    cause: str
    busy_seconds: float | None  # None: idle, or busy since a time not known (see `busy`)
    cell: int | None
    host: str
    busy: bool = False  # the server saw it busy, though not since when (its IOPub was followed late)


def what_happened(death: Death) -> str:
    """`died (SIGKILL: out of memory?) after 1 h 12 min busy in cell [7]` / `... while idle`."""
    if death.busy_seconds is not None:
        when = f"after {human_duration(death.busy_seconds)} busy"
    else:
        when = "while busy" if death.busy else "while idle"
    if (death.busy_seconds is not None or death.busy) and death.cell is not None:
        when += f" in cell [{death.cell}]"
    return f"died ({death.cause}) {when}"


def compose_death(death: Death) -> tuple[str, str]:
    """(message, title): `💀 train.ipynb (Project Alpha): kernel died (SIGKILL: out of memory?)
    after 1 h 12 min busy in cell [7]`, then what Jupyter does and the host."""
    head = headline(death.notebook, death.project, f"kernel {what_happened(death)}")
    text = f"💀 {head}\nJupyter restarts it; its variables are gone.\nHost: {death.host}"
    return clean(text, TELEGRAM_LIMIT), clean(head, 256)


@dataclass
class Watched:
    """One kernel, as followed from its IOPub: since when it is busy and in which cell."""

    manager: Any
    callback: Any
    stream: Any = None
    busy_since: float | None = None
    cell: int | None = None
    oom_counter: Path | None = None
    oom_baseline: int | None = None
    last_death: float = field(default=-AGAIN_WITHIN)
    ran: bool = False  # a cell started since the last death

    def seen(self, frames: list[bytes]) -> None:
        """One IOPub message: only `status` (of an execute request) and `execute_input` count."""
        try:
            start = frames.index(_DELIMITER) + 2  # then the signature, header, parent, metadata, content
            kind = json.loads(frames[start])["msg_type"]
            if kind == "execute_input":
                count = json.loads(frames[start + 3]).get("execution_count")
                self.cell = count if isinstance(count, int) else None
                self.ran = True
            elif kind == "status" and json.loads(frames[start + 1]).get("msg_type") == "execute_request":
                state = json.loads(frames[start + 3]).get("execution_state")
                if state == "busy" and self.busy_since is None:
                    self.busy_since = time.monotonic()
                elif state == "idle":
                    self.busy_since, self.cell = None, None
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            pass  # not a message of the shape we know: it tells us nothing


class KernelWatcher:
    """Follows every kernel of one server; a death becomes one log line and (maybe) one message."""

    def __init__(self, serverapp: Any, profile: str) -> None:
        self.serverapp = serverapp
        self.log = serverapp.log
        self.profile_dir = paths.profile_dir(profile)
        self.folder = Path(getattr(serverapp.kernel_manager, "connection_dir", "") or serverapp.runtime_dir)
        self.kernels: dict[str, Watched] = {}
        self.sender: Any = None
        self.tasks: set[asyncio.Future] = set()  # held here: the loop keeps only weak references

    async def on_action(self, logger: Any, schema_id: str, data: dict) -> None:
        """jupyter_server's kernel action events: follow kernels that start, stop following
        those shut down; after any restart, follow the new process's IOPub."""
        kernel_id, action = data.get("kernel_id"), data.get("action")
        if data.get("status") != "success" or not isinstance(kernel_id, str):
            return
        if action in ("start", "restart"):
            self.watch(kernel_id)
        elif action == "shutdown":
            self.forget(kernel_id)

    def watch(self, kernel_id: str) -> None:
        manager = self.serverapp.kernel_manager
        if kernel_id not in manager:
            return
        km = manager.get_kernel(kernel_id)
        watched = self.kernels.get(kernel_id)
        if watched is None or watched.manager is not km:
            self.forget(kernel_id)
            watched = Watched(km, lambda: self.died(kernel_id))
            km.add_restart_callback(watched.callback, "restart")
            self.kernels[kernel_id] = watched
        self._follow(watched)

    def _follow(self, watched: Watched) -> None:
        """A fresh IOPub subscription and OOM baseline for the kernel's current process."""
        if watched.stream is not None and not watched.stream.closed():
            watched.stream.close()
        watched.busy_since = watched.cell = None
        try:
            watched.stream = watched.manager.connect_iopub()
            watched.stream.on_recv(watched.seen)
        except Exception as exc:  # the kernel is gone again: its death (if any) still reaches `died`
            watched.stream = None
            self.log.debug("jupyter-helpers: cannot follow a kernel's IOPub: %s", exc)
        pid = _pid(watched.manager)
        watched.oom_counter = oom_counter(pid) if pid is not None else None
        watched.oom_baseline = oom_kills(watched.oom_counter)

    def forget(self, kernel_id: str) -> None:
        watched = self.kernels.pop(kernel_id, None)
        if watched is None:
            return
        try:
            watched.manager.remove_restart_callback(watched.callback, "restart")
        except (ValueError, AttributeError):
            pass
        if watched.stream is not None and not watched.stream.closed():
            watched.stream.close()

    def died(self, kernel_id: str) -> None:
        """The restarter's `restart` callback (on the server's loop): read what the dead process
        left now (the restart replaces it next), then name and send in a task."""
        watched = self.kernels.get(kernel_id)
        if watched is None:
            return
        process = getattr(watched.manager.provisioner, "process", None)
        returncode = process.poll() if process is not None else None
        kills = oom_kills(watched.oom_counter)
        try:
            peak = take_peak(peak_file(self.folder, kernel_id))
        except ValueError:  # not a kernel id that names a file
            peak = None
        out_of_memory = kills is not None and watched.oom_baseline is not None and kills > watched.oom_baseline
        busy = None if watched.busy_since is None else time.monotonic() - watched.busy_since
        # jupyter_server's own view (it follows IOPub too, from earlier on): busy, since when unknown
        busy_seen = busy is not None or getattr(watched.manager, "execution_state", None) == "busy"
        cell, now = watched.cell, time.monotonic()
        again = now - watched.last_death < AGAIN_WITHIN and not watched.ran
        watched.last_death, watched.ran = now, False
        watched.busy_since = watched.cell = None
        task = asyncio.ensure_future(
            self.report(kernel_id, cause(returncode, out_of_memory, peak), busy, busy_seen, cell, again)
        )
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        end_live_message(self.folder, kernel_id, self._sender, self.log, after=task)

    async def report(
        self, kernel_id: str, how: str | None, busy: float | None, busy_seen: bool, cell: int | None, again: bool
    ) -> None:
        try:
            path = await self._session_path(kernel_id)
            notebook = clean_name(os.path.basename(path)) if path else None
            if how is None:
                self.log.info(
                    "jupyter-helpers: kernel %s (%s) exited with code 0 on its own; no message",
                    kernel_id,
                    clean_name(path) if path else "no notebook",
                )
                return
            # files the user wrote (the map, Python configs) are read off the server's event loop
            project = await asyncio.to_thread(project_of, os.path.join(self.serverapp.root_dir, path)) if path else None
            death = Death(notebook, project, how, busy, cell, socket.gethostname(), busy_seen)
            message, title = compose_death(death)
            if again:
                outcome = "not sent again (it died again while restarting)"
            else:
                settings = await asyncio.to_thread(autonotify.load, self.profile_dir, config_loaders)
                for notice in settings.notices:
                    self.log.warning("jupyter-helpers: %s", notice)
                outcome = self._send(kernel_id, message, title, settings.values)
            self.log.warning(
                "jupyter-helpers: kernel %s (%s) %s; phone message %s",
                kernel_id,
                clean_name(path) if path else "no notebook",
                what_happened(death),
                outcome,
            )
        except Exception:  # never let one report end anything in the server
            self.log.exception("jupyter-helpers: could not report the death of kernel %s", kernel_id)

    def _send(self, kernel_id: str, message: str, title: str, settings: dict[str, Any]) -> str:
        """With the kernels' own settings (common/autonotify.py): backend, time limit, presence."""
        if settings["when"] == "away":
            verdict = decide(read_presence(presence_file(self.folder, kernel_id)), time.time(), settings["present_for"])
            if verdict.looking:
                return f"held ({verdict.reason.split(':')[0]})"
        sender = self._sender()
        sender.timeout = settings["send_timeout"]
        sender.submit(message, title, settings["backend"])
        return "queued"

    def _sender(self) -> Any:
        if self.sender is None:
            import atexit

            from ..common.child import child_command
            from ..common.sender import Sender

            def locate() -> list[str]:
                return child_command(self.profile_dir)

            self.sender = Sender(locate(), 30.0, locate=locate, warn=self.log.warning)
            atexit.register(self.sender.hand_off_pending)
        return self.sender

    async def _session_path(self, kernel_id: str) -> str | None:
        for session in await self.serverapp.session_manager.list_sessions():
            if (session.get("kernel") or {}).get("id") == kernel_id and session.get("path"):
                return str(session["path"])
        return None


def _pid(km: Any) -> int | None:
    process = getattr(getattr(km, "provisioner", None), "process", None)
    pid = getattr(process, "pid", None)
    return pid if isinstance(pid, int) else None


def load(serverapp: Any) -> None:
    """Runs in the extension's load hook, before any kernel starts."""
    watch = KernelWatch(parent=serverapp)
    if not watch.enabled:
        serverapp.log.info("jupyter-helpers: kernel deaths are not sent (c.KernelWatch.enabled = False)")
        return
    watcher = KernelWatcher(serverapp, watch.profile)
    serverapp.web_app.settings[SETTINGS_KEY] = watcher
    serverapp.event_logger.add_listener(schema_id=KERNEL_ACTIONS, listener=watcher.on_action)
    for kernel_id in serverapp.kernel_manager.list_kernel_ids():
        watcher.watch(kernel_id)
    serverapp.log.info("jupyter-helpers kernel watch: deaths are sent as phone messages (c.KernelWatch.enabled)")
