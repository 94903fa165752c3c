"""The server half of presence: relays what pages report to the kernels they show.

Pages POST {page, path, focused, visible, idle} to `<base_url>jupyter-helpers/presence` (an
authenticated API: token or cookie plus XSRF). The document path is mapped to its kernel through
the session manager, and the latest state of every page showing that kernel is written to a small
JSON file beside the kernel's connection file (common/presence.py; kernel/presence.py reads it). Clients
never name kernels or files: kernel ids come from the session manager only.

A closed tab must count as away at once: its `pagehide` beacon says so, and, for tabs that crash
or laptops that sleep, the kernel's websocket count dropping from above 0 to 0 closes every page of
that kernel. A closed page leaves the kernel's record (only live pages are kept, at most
MAX_PAGES_PER_KERNEL of them), and the files go when their kernel goes or the server stops.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.ioloop import PeriodicCallback
from tornado.log import app_log
from traitlets import Bool
from traitlets.config import Configurable

from ..common.presence import (
    HEARTBEAT_SECONDS,
    PageRecord,
    presence_file,
    write_private_json,
)
from .owner import counts_as_owner

ENDPOINT = "jupyter-helpers/presence"
SCRIPT_GLOBAL = "jupyter_helpers_presence_script"
WATCH_INTERVAL = 0.25  # seconds between looks at websocket counts and unresolved reports
RESOLVE_FOR = 60.0  # seconds a report whose document has no kernel yet keeps being retried
MAX_PAGES = 256  # pages followed at once, all kernels together
MAX_PAGES_PER_KERNEL = 32  # live pages in one kernel's record (~5 KB; the kernel reads up to 64 KB)
MAX_BODY = 8192
_PAGE_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")


class PagePresence(Configurable):
    """`c.PagePresence.enabled = False` in jupyter_server_config.py: pages report nothing."""

    enabled = Bool(
        True,
        help="Let notebook pages report focus and input, so that autonotify holds messages "
        "while you look at the notebook.",
    ).tag(config=True)


class BadReport(ValueError):
    pass


@dataclass(frozen=True)
class Report:
    page: str
    seq: int  # the page numbers its reports: one that arrives after a later one is stale
    path: str
    focused: bool
    visible: bool
    idle: float | None  # seconds since the page's last user input; None before any input
    closing: bool


def parse_report(body: bytes) -> Report:
    """The page's JSON, checked field by field; anything else is a BadReport with a short reason."""
    if len(body) > MAX_BODY:
        raise BadReport(f"body over {MAX_BODY} bytes")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadReport("body is not JSON") from None
    except RecursionError:
        raise BadReport("body nests too deeply") from None
    if not isinstance(data, dict):
        raise BadReport("body must be a JSON object")
    page, seq, path, idle = data.get("page"), data.get("seq"), data.get("path"), data.get("idle")
    if not isinstance(page, str) or not _PAGE_ID.fullmatch(page):
        raise BadReport("'page' must be 8-64 letters, digits, '-' or '_'")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq < 2**53:
        raise BadReport("'seq' must be a whole number >= 0")
    if not isinstance(path, str) or len(path) > 4096 or "\0" in path:
        raise BadReport("'path' must be a document path")
    flags = {name: data.get(name, False) for name in ("focused", "visible", "closing")}
    if not all(isinstance(value, bool) for value in flags.values()):
        raise BadReport("'focused', 'visible' and 'closing' must be true or false")
    if idle is not None and (isinstance(idle, bool) or not isinstance(idle, (int, float)) or not 0 <= idle < 1e9):
        raise BadReport("'idle' must be null or seconds >= 0")
    return Report(page, seq, path.strip("/"), idle=None if idle is None else float(idle), **flags)


class PresenceListener(Protocol):
    """Told every report that is news, and pages gone without a word (ActivityWatch heartbeats)."""

    async def page_reported(self, report: Report, kernel_ids: tuple[str, ...], now: float) -> None: ...

    def pages_closed(self, pages: list[str], now: float) -> None: ...


def page_record(report: Report, now: float) -> PageRecord:
    """What the kernel reads about one page: server clock times only (the page sends ages)."""
    return {
        "page": report.page,
        "focused": report.focused and not report.closing,
        "visible": report.visible and not report.closing,
        "closed": report.closing,
        "reported": now,
        "last_input": None if report.idle is None else now - report.idle,
    }


@dataclass
class _Pending:
    report: Report
    received: float


@dataclass
class PresenceStore:
    """Latest state per page and per kernel, in memory; one file per kernel on disk."""

    folder: Path  # the kernels' connection dir
    sessions: Any  # the server's session manager
    kernels: Any  # the server's multi kernel manager
    log: Any
    page_kernels: dict[str, tuple[str, ...]] = field(default_factory=dict)
    by_kernel: dict[str, dict[str, PageRecord]] = field(default_factory=dict)
    pending: dict[str, _Pending] = field(default_factory=dict)
    connections: dict[str, int] = field(default_factory=dict)
    last_seq: dict[str, int] = field(default_factory=dict)
    listener: PresenceListener | None = None  # the ActivityWatch heartbeats, when they are on
    watcher: PeriodicCallback | None = None  # runs `look` every WATCH_INTERVAL once the server runs
    write_failing: bool = False  # said once in the log, again only after a write worked

    async def report(self, report: Report) -> None:
        # A page's requests can arrive out of order (the hidden-page report and the pagehide
        # beacon leave together when a tab closes): only news counts.
        if report.seq <= self.last_seq.get(report.page, -1):
            return
        self.last_seq.pop(report.page, None)
        self.last_seq[report.page] = report.seq
        while len(self.last_seq) > 4 * MAX_PAGES:
            del self.last_seq[next(iter(self.last_seq))]
        now = time.time()
        self.pending.pop(report.page, None)
        kernel_ids = await self._kernels_of(report.path) if report.path else ()
        if report.path and not kernel_ids and not report.closing:
            # The page's first report can precede its kernel, or name a session not renamed yet.
            self.pending[report.page] = _Pending(report, now)
            while len(self.pending) > MAX_PAGES:
                del self.pending[next(iter(self.pending))]
        self._record(report, kernel_ids, now)
        if self.listener is not None:
            await self.listener.page_reported(report, kernel_ids, now)

    async def _kernels_of(self, path: str) -> tuple[str, ...]:
        return (await self._session_kernels()).get(path, ())

    async def _session_kernels(self) -> dict[str, tuple[str, ...]]:
        """Document path -> the kernels of its sessions (sorted)."""
        found: dict[str, set[str]] = {}
        for session in await self.sessions.list_sessions():
            if session.get("kernel"):
                found.setdefault(str(session.get("path", "")).strip("/"), set()).add(session["kernel"]["id"])
        return {path: tuple(sorted(ids)) for path, ids in found.items()}

    def _record(self, report: Report, kernel_ids: tuple[str, ...], now: float) -> None:
        previous = self.page_kernels.pop(report.page, ())
        showing = () if report.closing else kernel_ids
        for kernel_id in set(previous) | set(kernel_ids):
            if kernel_id not in showing:  # closed, or showing another document now
                self._remove(kernel_id, [report.page])
        if not showing:
            return
        self.page_kernels[report.page] = showing
        while len(self.page_kernels) > MAX_PAGES:
            self._forget_page(next(iter(self.page_kernels)))
        for kernel_id in showing:
            pages = self.by_kernel.setdefault(kernel_id, {})
            pages.pop(report.page, None)  # the latest report goes last: the oldest go first
            pages[report.page] = page_record(report, now)
            while len(pages) > MAX_PAGES_PER_KERNEL:
                del pages[next(iter(pages))]
            self._write(kernel_id)

    def _remove(self, kernel_id: str, pages: list[str]) -> None:
        """These pages no longer show this kernel's notebook (closed, or another document)."""
        records = self.by_kernel.get(kernel_id, {})
        if any([records.pop(page, None) for page in pages]):
            self._write(kernel_id)

    def _forget_page(self, page: str) -> None:
        for kernel_id in self.page_kernels.pop(page, ()):
            self._remove(kernel_id, [page])

    def _write(self, kernel_id: str) -> None:
        pages = self.by_kernel.get(kernel_id)
        if pages is None:
            return
        try:
            write_private_json(
                presence_file(self.folder, kernel_id), {"kernel": kernel_id, "pages": list(pages.values())}
            )
        except (OSError, ValueError) as exc:
            if not self.write_failing:
                self.log.warning(
                    "jupyter-helpers: could not record presence for kernel %s: %s (kernels send "
                    "every message until this is fixed; said once)",
                    kernel_id,
                    exc,
                )
            self.write_failing = True
        else:
            self.write_failing = False

    def _close_all(self, kernel_id: str) -> None:
        """The kernel's websockets all went: every page showing it is gone (a crashed tab)."""
        pages = list(self.by_kernel.get(kernel_id, {}))
        for page in pages:
            self.page_kernels.pop(page, None)
        self._remove(kernel_id, pages)
        if self.listener is not None and pages:
            self.listener.pages_closed(pages, time.time())

    def _drop_kernel(self, kernel_id: str) -> None:
        self.by_kernel.pop(kernel_id, None)
        self.connections.pop(kernel_id, None)
        for page, kernel_ids in list(self.page_kernels.items()):
            if kernel_id in kernel_ids:
                del self.page_kernels[page]
        try:
            presence_file(self.folder, kernel_id).unlink(missing_ok=True)
        except OSError:
            pass

    def start(self) -> None:
        """Looks at websocket counts and waiting reports every WATCH_INTERVAL (the server's loop runs)."""
        self.watcher = PeriodicCallback(self.look, WATCH_INTERVAL * 1000)
        self.watcher.start()

    def close(self) -> None:
        """The server stops: no file outlives it (kernels it leaves running report as unknown,
        which means 'send'). The extension's stop hook, whichever way the server was stopped but
        SIGKILL."""
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        for kernel_id in list(self.by_kernel):
            self._drop_kernel(kernel_id)

    async def tick(self) -> None:
        """One look at websocket counts (a drop from above 0 to 0 closes the kernel's pages),
        kernels that are gone, and reports still waiting for their kernel."""
        for kernel_id in list(self.by_kernel):
            if kernel_id not in self.kernels:
                self._drop_kernel(kernel_id)
                continue
            count = self.kernels.kernel_model(kernel_id).get("connections", 0)
            if count == 0 and self.connections.get(kernel_id, 0) > 0:
                self._close_all(kernel_id)
            self.connections[kernel_id] = count
        if not self.pending:
            return
        sessions = await self._session_kernels()
        now = time.time()
        for page, waiting in list(self.pending.items()):
            if now - waiting.received > RESOLVE_FOR:
                del self.pending[page]
                continue
            kernel_ids = sessions.get(waiting.report.path, ())
            if kernel_ids and self.pending.get(page) is waiting:
                del self.pending[page]
                idle = waiting.report.idle
                aged = waiting.report if idle is None else _with_idle(waiting.report, idle + now - waiting.received)
                self._record(aged, kernel_ids, now)
                if self.listener is not None:  # the kernel is known now (its language, for heartbeats)
                    await self.listener.page_reported(aged, kernel_ids, now)

    async def look(self) -> None:
        if self.by_kernel or self.pending:
            try:
                await self.tick()
            except Exception:  # never let one bad look end the watch
                self.log.exception("jupyter-helpers: presence watch failed once")


def _with_idle(report: Report, idle: float) -> Report:
    return dataclasses.replace(report, idle=idle)


class PresenceHandler(APIHandler):
    def initialize(self, store: PresenceStore) -> None:
        self.store = store

    def _request_summary(self) -> str:
        """What tornado logs with a refused request, without the query: the pagehide beacon
        carries its XSRF token there (sendBeacon cannot set headers)."""
        return f"{self.request.method} {self.request.path} ({self.request.remote_ip})"

    def log_exception(self, typ: Any, value: BaseException | None, tb: Any) -> None:
        if isinstance(value, web.HTTPError) or value is None:
            super().log_exception(typ, value, tb)  # one line, with the summary above
        else:  # tornado's own would add repr(request), which holds the query
            app_log.error("Uncaught exception %s", self._request_summary(), exc_info=value)

    @web.authenticated
    async def post(self) -> None:
        try:
            report = parse_report(self.request.body)
        except BadReport as exc:
            raise web.HTTPError(400, f"presence report rejected: {exc}") from None
        if counts_as_owner(self.current_user, os.environ):  # a visitor's page is heard, never counted
            await self.store.report(report)
        self.set_status(204)
        self.finish()


def script_config(base_url: str) -> dict[str, Any]:
    """What the presence script gets: where to report, and how often while nothing changes."""
    return {"url": base_url.rstrip("/") + "/" + ENDPOINT, "heartbeat": HEARTBEAT_SECONDS}
