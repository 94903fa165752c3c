"""The server extension's one owner: reads the configuration once, builds every long-lived piece
through its constructor, starts them once the server runs, and ends them when it stops.

An `ExtensionApp`, as jupyter_server_terminals is, because only an ExtensionApp gets a stop hook:
the server awaits `stop_extension` on its way out (Ctrl-C in its terminal, SIGTERM, `jupyter
server stop`), before it shuts its kernels down. So no presence file, timer, IOPub subscription or
queued death message outlives the server; its kernels' records (server/records.py) go at its exit,
once the kernels are gone. Otherwise `atexit` covers only the exit jupyter_server makes without its
shutdown (SIGINT when its standard input is no terminal).

    load  (initialize_settings)  config, the project map, PresenceStore -> Heartbeats, KernelWatcher
          (initialize_handlers)  the presence endpoint, given its store
    start (the start hook)       page scripts into every front end's Jinja environment (they exist
                                 only now: FIELD-NOTES), the presence watch, the heartbeat timer
    stop  (stop_extension)       the shutdown notice to every kernel (a cell the server stops says
                                 so), heartbeats, presence files, kernel watch (queued messages
                                 handed off); at exit, once the kernels are gone, their records

The pieces keep the configuration names users already set (`c.ProjectTitles`, `c.PagePresence`,
`c.ActivityWatch`, `c.KernelWatch`): each is a Configurable whose parent is the server.
"""

from __future__ import annotations

import atexit
import os
from pathlib import Path
from typing import Any

from jupyter_server.extension.application import ExtensionApp

from ..common.errors import UserError
from ..common.hub import server_owner
from ..common.installation import where_installed
from . import deaths, heartbeats, owner, presence, records, titles
from .pages import install_script, jinja_environments, render_script


class JupyterHelpersApp(ExtensionApp):
    """`jpserver_extensions: {"jupyter_helpers": true}`: titles, presence, kernel deaths, heartbeats."""

    name = "jupyter_helpers"
    load_other_extensions = True

    def initialize_settings(self) -> None:
        serverapp = self.serverapp
        assert serverapp is not None
        log = serverapp.log
        folder = Path(getattr(serverapp.kernel_manager, "connection_dir", "") or serverapp.runtime_dir)
        self.titles = titles.ProjectTitles(parent=serverapp)
        if server_owner() is not None:
            log.info(owner.startup_line(os.environ, self._map_file()))
        self.title_setup = titles.read_setup(self.titles, serverapp.root_dir, serverapp.base_url)

        self.heartbeats: heartbeats.Heartbeats | None = None
        self.presence: presence.PresenceStore | None = None
        self.deaths: deaths.KernelWatcher | None = None
        self.records: Path | None = None  # where the kernels' records are (server/records.py)
        if where_installed() is None:  # uninstalled, pip's package left: window titles only, nothing sent anywhere
            log.info(
                "jupyter-helpers: not installed for you or for this environment: window titles only; "
                "no kernel-death messages, presence or ActivityWatch heartbeats (`jupyter-helpers install` "
                "turns them on)"
            )
            return
        self.records = folder
        records.sweep(folder)
        if presence.PagePresence(parent=serverapp).enabled:
            settings = heartbeats.read_settings(serverapp)
            if settings is not None:
                documents = heartbeats.Documents(
                    serverapp.root_dir, self.title_setup.projects, heartbeats.kernel_languages(serverapp)
                )
                self.heartbeats = heartbeats.Heartbeats(settings, documents, log)
            self.presence = presence.PresenceStore(
                folder, serverapp.session_manager, serverapp.kernel_manager, log, listener=self.heartbeats
            )
        else:
            log.info("jupyter-helpers: presence reports are off (c.PagePresence.enabled = False)")
            if heartbeats.read_settings(serverapp) is not None:
                log.info(
                    "jupyter-helpers: ActivityWatch heartbeats are off: they need page presence "
                    "(c.PagePresence.enabled)"
                )

        watch = deaths.KernelWatch(parent=serverapp)
        if watch.enabled:
            self.deaths = deaths.KernelWatcher(serverapp, watch.profile)
            self.deaths.start()
            log.info("jupyter-helpers kernel watch: deaths are sent as phone messages (c.KernelWatch.enabled)")
        else:
            log.info("jupyter-helpers: kernel deaths are not sent (c.KernelWatch.enabled = False)")
        atexit.register(self._exit_unstopped)

    def _exit_unstopped(self) -> None:
        """The one exit without the stop hook: SIGINT to a server whose standard input is no
        terminal ends its loop with KeyboardInterrupt ("Interrupted...") and skips its whole
        shutdown, kernels included. The files still go, and queued messages to children of their own."""
        if self.presence is not None:
            self.presence.close()
        if self.deaths is not None and self.deaths.sender is not None:
            self.deaths.sender.hand_off_pending()

    def _map_file(self) -> str:
        try:
            return str(self.titles.store().path)
        except UserError as exc:
            return f"(none: {exc})"

    def initialize_handlers(self) -> None:
        if self.presence is not None:
            self.handlers.append(("/" + presence.ENDPOINT, presence.PresenceHandler, {"store": self.presence}))

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """Page scripts go in here, not at load: other extensions create their Jinja environments
        after this extension's load may have run."""
        log = serverapp.log
        environments = jinja_environments(serverapp.web_app.settings)
        setup = self.title_setup
        if setup.script is None:
            log.error("jupyter-helpers: window titles get no project name: %s", setup.problem)
        else:
            install_script(environments, titles.SCRIPT_GLOBAL, render_script(titles.SCRIPT_TEMPLATE, setup.script))
            log.info(
                "jupyter-helpers: project names added to page titles (%d template environments)", len(environments)
            )
            missing = self.titles.missing_map()
            if missing is not None:
                log.warning(
                    "jupyter-helpers: no project map at %s, so titles show the server folder's name; "
                    "map folders with `jupyter-helpers projects add FOLDER NAME` and restart the server",
                    missing,
                )
        if self.presence is not None:
            # the same per-page gate as the title script
            script = render_script("presence_script.html.j2", presence.script_config(serverapp.base_url))
            install_script(environments, presence.SCRIPT_GLOBAL, script)
            self.presence.start()
            log.info(
                "jupyter-helpers presence: reports at %s%s (%d template environments)",
                serverapp.base_url,
                presence.ENDPOINT,
                len(environments),
            )
        if self.heartbeats is not None:
            self.heartbeats.start()

    async def stop_extension(self) -> None:
        atexit.unregister(self._exit_unstopped)
        assert self.serverapp is not None
        if self.records is not None:
            # the server interrupts and shuts down its kernels after this hook: told first, so that
            # a cell it stops says so; their records go once they are gone, at the server's exit
            records.announce_shutdown(self.records, self.serverapp.kernel_manager.list_kernel_ids(), self.serverapp.log)
            atexit.register(records.sweep, self.records)
        if self.heartbeats is not None:
            self.heartbeats.stop()
        if self.presence is not None:
            self.presence.close()
        if self.deaths is not None:
            await self.deaths.stop()
        self.serverapp.log.info("jupyter-helpers: stopped (presence files removed, kernel watch ended)")
