"""Kernel deaths, told by the server: a dead kernel cannot send anything, its server sees it die.

jupyter_client's restarter fires a kernel manager's `restart` callbacks when the kernel process
died on its own, and not for a restart or shutdown a client asked for (the REST API, the UI,
culling, the server stopping: those stop the restarter first). So a `restart` callback is a death;
the exit status is readable then, and the `dead` callback is the last death of a crash loop, after
which Jupyter gives up. Each kernel's IOPub is followed (server/iopub.py) to know since when it has
been busy and in which cell; the words are server/death_message.py's.

The message goes through the same delivery child the kernels use (common/sender.py: a queue and a
worker thread; never ntfy in the server's process or event loop), with the kernels' own settings
(backend, time limit, presence: common/autonotify.py, read from the files kernels read), and is
held while someone looks at the notebook (common/presence.py `decide`): Jupyter shows its own
dialog then. One log line per death; a failing channel is logged once per kind of failure,
without the token.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from jupyter_server.utils import ensure_async
from traitlets import Bool, Unicode
from traitlets.config import Configurable
from traitlets.config import loader as config_loaders

from ..common import autonotify, paths
from ..common.memory import find_source, oom_counter, oom_kills, peak_file, take_peak
from ..common.presence import decide, presence_file, read_presence
from ..common.projects import project_of
from ..common.text import clean_name
from .death_message import Death, cause, compose_death, what_happened
from .iopub import KernelActivity
from .live import end_live_message

KERNEL_ACTIONS = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"
# A kernel that dies again this soon after a death, without having run a cell in between, is in a
# crash loop while Jupyter restarts it (jupyter_client's stable_start_time is 10 s): logged only.
AGAIN_WITHIN = 10.0
# Asking a kernel whether the IOPub subscription works: every second at first, then less often
# (a busy kernel answers only after its cell), for at most a minute.
ASK_EVERY = 1.0
MAX_ASK_EVERY = 8.0
CONFIRM_FOR = 60.0
REPORT_WAIT = 3.0
# Death messages waiting to be sent, every kernel's together (one delivery child sends one at a
# time): a burst of deaths (a node's OOM killer, a scheduler ending a job's kernels) can be many.
DEATHS_WAITING = 256
FOLLOWING = "jupyter-helpers: following kernel %s, process %s (a death names its busy time and cell)"


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


@dataclass
class Watched:
    """One kernel: its manager, what its IOPub said, its cgroup's OOM count at its start and
    whether that cgroup limits its memory."""

    manager: Any
    callback: Any  # the restarter's `restart`: a death, Jupyter restarts the kernel
    given_up: Any  # its `dead`: a death after the restart limit, the kernel is removed
    activity: KernelActivity
    oom_counter: Path | None = None
    oom_baseline: int | None = None
    limited: bool = False  # its memory cgroup has a limit below the machine's memory
    pid: int | None = None  # the process the OOM baseline and limit were taken for
    last_death: float = field(default=-AGAIN_WITHIN)
    confirming: asyncio.Future | None = None
    path: str = ""  # the notebook, as the last death found it


class Dying(NamedTuple):
    """What a dying kernel's process and IOPub left, read in the restarter's callback."""

    how: str | None
    busy: float | None
    busy_seen: bool
    cell: int | None
    at: float
    oom_kills: int | None


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

    def start(self) -> None:
        """Follows kernels from now on (the extension's load, before any kernel starts)."""
        self.serverapp.event_logger.add_listener(schema_id=KERNEL_ACTIONS, listener=self.on_action)
        for kernel_id in self.serverapp.kernel_manager.list_kernel_ids():
            self.watch(kernel_id)

    async def stop(self) -> None:
        """The server stops (before it shuts its kernels down, which is no death): no callback or
        subscription stays, deaths being reported get REPORT_WAIT seconds to be queued, and
        messages still queued go to delivery children of their own."""
        self.serverapp.event_logger.remove_listener(schema_id=KERNEL_ACTIONS, listener=self.on_action)
        for kernel_id in list(self.kernels):
            self.forget(kernel_id)
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=REPORT_WAIT)
        if self.sender is not None:
            self.sender.hand_off_pending()

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
            activity = KernelActivity(km, lambda: self.log.info(FOLLOWING, kernel_id, _pid(km)))
            watched = Watched(km, lambda: self.died(kernel_id), lambda: self.gave_up(kernel_id), activity)
            km.add_restart_callback(watched.callback, "restart")
            km.add_restart_callback(watched.given_up, "dead")
            self.kernels[kernel_id] = watched
        watched.activity.reset()
        _count_ooms_from_now(watched)
        self._follow(kernel_id, watched)

    def _follow(self, kernel_id: str, watched: Watched) -> None:
        """Follows the kernel's current process: its IOPub, confirmed in a task."""
        if watched.confirming is not None:
            watched.confirming.cancel()
        watched.confirming = self._task(self._confirm(kernel_id, watched))

    async def _confirm(self, kernel_id: str, watched: Watched) -> None:
        """Asks the kernel for its info until a message arrives through the subscription (see
        server/iopub.py); after a death, once the restarted process runs (on new ports, maybe)."""
        activity, wait = watched.activity, ASK_EVERY
        deadline = time.monotonic() + CONFIRM_FOR
        try:
            while not activity.confirmed and self.kernels.get(kernel_id) is watched and time.monotonic() < deadline:
                if not await ensure_async(watched.manager.is_alive()):  # restarting
                    await asyncio.sleep(ASK_EVERY)
                    continue
                _count_ooms_from_now(watched)
                activity.connect()
                activity.ask()
                await asyncio.sleep(wait)
                wait = min(wait * 2, MAX_ASK_EVERY)  # a busy kernel answers only after its cell
        except Exception as exc:  # the kernel is gone again: its death (if any) still reaches `died`
            self.log.debug("jupyter-helpers: cannot follow kernel %s's IOPub: %s", kernel_id, exc)
        finally:
            activity.stop_asking()

    def _task(self, coroutine: Any) -> asyncio.Future:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def forget(self, kernel_id: str) -> None:
        watched = self.kernels.pop(kernel_id, None)
        if watched is None:
            return
        for callback, event in ((watched.callback, "restart"), (watched.given_up, "dead")):
            try:
                watched.manager.remove_restart_callback(callback, event)
            except (ValueError, AttributeError):
                pass
        if watched.confirming is not None:
            watched.confirming.cancel()
        watched.activity.close()

    def died(self, kernel_id: str) -> None:
        """The restarter's `restart` callback (on the server's loop): read what the dead process
        left now (the restart replaces it next), then name and send in a task, and follow the
        process that replaces it."""
        watched = self.kernels.get(kernel_id)
        if watched is None:
            return
        seen = self._seen_dying(kernel_id, watched)
        again = seen.at - watched.last_death < AGAIN_WITHIN and not watched.activity.ran
        watched.last_death, watched.oom_baseline = seen.at, seen.oom_kills
        watched.activity.reset()
        task = self._task(self.report(kernel_id, seen.how, seen.busy, seen.busy_seen, seen.cell, again))
        end_live_message(self.folder, kernel_id, self._sender, self.log, after=task)
        self._follow(kernel_id, watched)

    def gave_up(self, kernel_id: str) -> None:
        """The restarter's `dead` callback: the kernel died once more than its restart limit
        allows, and jupyter_server removes it without a kernel action event. Said once more, as
        the last word of a crash loop (the earlier message said Jupyter restarts it)."""
        watched = self.kernels.get(kernel_id)
        if watched is None:
            return
        seen = self._seen_dying(kernel_id, watched)
        # not now: the restarter is iterating over these callbacks, and removing ours would skip
        # the next one (jupyter_server's own, which removes the kernel)
        asyncio.get_running_loop().call_soon(self.forget, kernel_id)
        task = self._task(self.report(kernel_id, seen.how, seen.busy, seen.busy_seen, seen.cell, False, watched.path))
        end_live_message(self.folder, kernel_id, self._sender, self.log, after=task)

    def _seen_dying(self, kernel_id: str, watched: Watched) -> Dying:
        process = getattr(watched.manager.provisioner, "process", None)
        returncode = process.poll() if process is not None else None
        kills = oom_kills(watched.oom_counter)
        try:
            peak = take_peak(peak_file(self.folder, kernel_id))
        except ValueError:  # not a kernel id that names a file
            peak = None
        out_of_memory = kills is not None and watched.oom_baseline is not None and kills > watched.oom_baseline
        activity = watched.activity
        busy = None if activity.busy_since is None else time.monotonic() - activity.busy_since
        # jupyter_server's own view (it follows IOPub too, from earlier on): busy, since when unknown
        busy_seen = busy is not None or getattr(watched.manager, "execution_state", None) == "busy"
        # a peak is recorded only under a limit (kernel/memory.py): a kernel that moved itself into
        # a cgroup after the server looked (a kernelspec's wrapper) still counts as limited
        how = cause(returncode, out_of_memory, peak, watched.limited or peak is not None)
        return Dying(how, busy, busy_seen, activity.cell, time.monotonic(), kills)

    async def report(
        self,
        kernel_id: str,
        how: str | None,
        busy: float | None,
        busy_seen: bool,
        cell: int | None,
        again: bool,
        given_up_at: str | None = None,
    ) -> None:
        """`given_up_at`: the kernel's notebook as last known (Jupyter gave up on it: its session is
        gone by now), or None for a death Jupyter restarts."""
        given_up = given_up_at is not None
        try:
            path = (given_up_at or None) if given_up else await self._session_path(kernel_id)
            watched = self.kernels.get(kernel_id)
            if watched is not None and path:
                watched.path = path
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
            death = Death(notebook, project, how, busy, cell, socket.gethostname(), busy_seen, given_up)
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
                what_happened(death) + (" and Jupyter gave up restarting it" if given_up else ""),
                outcome,
            )
        except Exception:  # never let one report end anything in the server
            self.log.exception("jupyter-helpers: could not report the death of kernel %s", kernel_id)

    def _send(self, kernel_id: str, message: str, title: str, settings: dict[str, Any]) -> str:
        """With the kernels' own settings (common/autonotify.py): the off switch, backend, time
        limit, presence."""
        if not settings["enabled"]:
            return "not sent (c.AutoNotify.enabled = False)"
        if settings["when"] == "away":
            verdict = decide(read_presence(presence_file(self.folder, kernel_id)), time.time(), settings["present_for"])
            if verdict.looking:
                return f"held ({verdict.reason.split(':')[0]})"
        sender = self._sender()
        sender.timeout = settings["send_timeout"]
        if not sender.submit(message, title, settings["backend"]):
            return f"dropped ({sender.limit} already waiting to be sent)"
        return "queued"

    def _sender(self) -> Any:
        if self.sender is None:
            from ..common.child import child_command
            from ..common.sender import Sender

            def locate() -> list[str]:
                return child_command(self.profile_dir)

            self.sender = Sender(locate(), 30.0, locate=locate, warn=self.log.warning, limit=DEATHS_WAITING)
        return self.sender

    async def _session_path(self, kernel_id: str) -> str | None:
        for session in await self.serverapp.session_manager.list_sessions():
            if (session.get("kernel") or {}).get("id") == kernel_id and session.get("path"):
                return str(session["path"])
        return None


def _count_ooms_from_now(watched: Watched) -> None:
    """The OOM baseline for the kernel's current process and cgroup (once for each: an OOM kill
    counted since then is its death's), and whether a memory limit binds it (common/memory.py's
    judgement, as the kernel's memory watch makes it). A kernelspec's wrapper may move the process
    into its cgroup after the start (`echo $$ > cgroup.procs; exec python`): the follow loop's
    calls see the move."""
    pid = _pid(watched.manager)
    if pid is None:
        return
    counter = oom_counter(pid)
    if pid == watched.pid and counter in (None, watched.oom_counter):  # (None: it has just died)
        return
    watched.pid, watched.oom_counter, watched.oom_baseline = pid, counter, oom_kills(counter)
    source, _ = find_source(pid)
    watched.limited = source is not None and source.folder is not None


def _pid(km: Any) -> int | None:
    process = getattr(getattr(km, "provisioner", None), "process", None)
    pid = getattr(process, "pid", None)
    return pid if isinstance(pid, int) else None
