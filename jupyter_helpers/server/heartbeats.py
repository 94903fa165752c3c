"""ActivityWatch heartbeats from the Jupyter server: time per notebook and project, no title rules.

The presence reports pages already send (server/presence.py) say which document is in use
(server/activity.py decides). Every `c.ActivityWatch.interval` seconds the server sends what was
used since the last send to aw-server, into the bucket `aw-watcher-jupyter_<hostname>` of type
`app.editor.activity` (common/editor_bucket.py), with data {file, project, language} that stays
the same for a document, so aw-server merges the beats into one event per stretch of use. That
bucket type feeds the Editor view of ActivityWatch's web UI. Only those three fields leave the
server, and only to the configured aw-server.

aw-server not running is normal: one line in the log, retries with backoff, and what was used
meanwhile waits in a bounded queue (contiguous stretches merge, so an hour away is one entry).
Sends go through tornado's AsyncHTTPClient: the server's event loop never waits on aw-server.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.ioloop import PeriodicCallback
from traitlets import Bool, Float, TraitError, Unicode
from traitlets.config import Configurable

from ..common.editor_bucket import BUCKET_TYPE, CLIENT, DEFAULT_URL, EditorData, api_key_problem, bucket_id, url_problem
from ..common.projects import ProjectMap
from .activity import Activity, PageState, Segment
from .presence import Report

DESCRIBED_FOR = 30.0  # seconds a document's description is reused (a file removed counts that long at most)
MAX_DESCRIBED = 256
MAX_BACKOFF = 300.0  # seconds between tries at most while aw-server cannot be reached
REQUEST_TIMEOUT = 5.0  # the whole request, answer included
MAX_ANSWER = 1024 * 1024  # aw-server answers a heartbeat with the merged event: small
# Beats follow each other without gaps (each starts where the last ended), so they merge anyway;
# a pulsetime a little above the interval also joins stretches of one document around a pause
# shorter than that (a glance elsewhere), as other editor watchers do.
PULSE_MARGIN = 1.0
LANGUAGES = {
    ".py": "python",
    ".ipynb": "notebook",
    ".md": "markdown",
    ".r": "r",
    ".jl": "julia",
    ".js": "javascript",
    ".ts": "typescript",
    ".json": "json",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".toml": "toml",
    ".sh": "shell",
    ".sql": "sql",
    ".txt": "text",
    ".csv": "csv",
    ".tsv": "csv",
    ".html": "html",
    ".css": "css",
    ".tex": "latex",
    ".rst": "restructuredtext",
    ".c": "c",
    ".h": "c",
    ".cpp": "cpp",
    ".rs": "rust",
    ".go": "go",
    ".java": "java",
    ".scala": "scala",
    ".ini": "ini",
    ".cfg": "ini",
}


class ActivityWatch(Configurable):
    """`c.ActivityWatch.<option>` in jupyter_server_config.py."""

    heartbeats = Bool(True, help="Send time per notebook and project to ActivityWatch (its Editor view).").tag(
        config=True
    )
    url = Unicode(DEFAULT_URL, help="Where aw-server listens.").tag(config=True)
    idle_after = Float(
        180.0,
        help="Seconds without input in the focused page after which time stops counting (aw-watcher-afk's default).",
    ).tag(config=True)
    interval = Float(10.0, help="Seconds between heartbeats while a document is in use.").tag(config=True)
    api_key = Unicode("", help="aw-server's API key, if it requires one (sent as a Bearer token).").tag(config=True)

    def problem(self) -> str | None:
        """What is wrong with the settings, in one sentence; None when they are usable."""
        if why := url_problem(self.url):
            return f"c.ActivityWatch.url {self.url!r}: {why}"
        if not 0 < self.idle_after < 1e7:
            return f"c.ActivityWatch.idle_after must be seconds > 0, got {self.idle_after!r}"
        if not 0.2 <= self.interval <= 600:
            return f"c.ActivityWatch.interval must be 0.2 to 600 seconds, got {self.interval!r}"
        if why := api_key_problem(self.api_key):
            return f"c.ActivityWatch.api_key {why}"
        return None


def language_of(path: str) -> str:
    """A file's language from its type, as editor watchers name them."""
    extension = os.path.splitext(path)[1].lower()
    return LANGUAGES.get(extension, extension[1:] or "text")


class Documents:
    """Root-relative paths, as pages report them, to the data of a heartbeat."""

    def __init__(
        self,
        root_dir: str,
        projects: ProjectMap,
        kernel_language: Callable[[str], str | None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = os.path.normpath(os.path.abspath(root_dir))
        self.projects = projects
        self.kernel_language = kernel_language
        self.clock = clock
        name = " ".join(os.path.basename(self.root).split())
        self.root_project = name or self.root  # a root folder named " " shows its path instead
        self.known: dict[tuple[str, tuple[str, ...]], tuple[float, EditorData | None]] = {}

    async def describe(self, path: str, kernel_ids: tuple[str, ...]) -> EditorData | None:
        """None for anything but a file under the server's root (a folder page, a path the page
        made up): only documents the user can open count. The look at the disk (a hung network
        mount can take minutes) runs off the server's event loop, and each answer is reused for
        DESCRIBED_FOR seconds: a focused page reports every 10 s."""
        now = self.clock()
        known = self.known.get((path, kernel_ids))
        if known is not None and known[0] > now:
            return known[1]
        data = await asyncio.to_thread(self._describe, path, kernel_ids)
        self.known.pop((path, kernel_ids), None)
        self.known[(path, kernel_ids)] = (now + DESCRIBED_FOR, data)
        while len(self.known) > MAX_DESCRIBED:
            del self.known[next(iter(self.known))]
        return data

    def _describe(self, path: str, kernel_ids: tuple[str, ...]) -> EditorData | None:
        file = os.path.normpath(os.path.join(self.root, path))
        if os.path.commonpath([file, self.root]) != self.root or not os.path.isfile(file):
            return None
        project = self.projects.resolve(os.path.realpath(file)) or self.projects.resolve(file) or self.root_project
        languages = [language for language in map(self.kernel_language, kernel_ids) if language]
        return {"file": file, "project": project, "language": languages[0] if languages else language_of(file)}


class Heartbeats:
    """Follows the presence reports (the PresenceStore's listener) and sends what was used."""

    def __init__(
        self,
        settings: ActivityWatch,
        documents: Documents,
        log: Any,
        host: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.documents = documents
        self.log = log
        self.clock = clock
        self.activity = Activity(settings.idle_after)
        self.host = host or socket.gethostname()
        self.bucket = bucket_id(self.host)
        self.api = settings.url.rstrip("/") + "/api/0/"
        self.pulsetime = settings.interval + PULSE_MARGIN
        self.bucket_ready = False
        self.problem = ""  # why the last send stopped
        self.failures = 0
        self.retry_at = 0.0
        self.reached: bool | None = None  # None until the first try
        self.timer: PeriodicCallback | None = None
        self.last_seq: dict[str, int] = {}  # per page, the report applied last
        self.fault = ""  # the last unexpected exception in a round, logged once per kind
        self.client: AsyncHTTPClient | None = None  # our own (a small answer limit), made in the loop

    # -- the PresenceStore's listener -------------------------------------------------------

    async def page_reported(self, report: Report, kernel_ids: tuple[str, ...], now: float) -> None:
        if report.closing:
            self.activity.forget([report.page], now)
            return
        data = await self.documents.describe(report.path, kernel_ids) if report.path else None
        if report.seq < self.last_seq.get(report.page, -1):  # a later report was taken while this one looked
            return
        self.last_seq.pop(report.page, None)
        self.last_seq[report.page] = report.seq
        while len(self.last_seq) > MAX_DESCRIBED:
            del self.last_seq[next(iter(self.last_seq))]
        last_input = None if report.idle is None else now - report.idle
        self.activity.report(report.page, PageState(data, report.focused, report.visible, now, last_input), now)

    def pages_closed(self, pages: list[str], now: float) -> None:
        self.activity.forget(pages, now)

    # -- sending -------------------------------------------------------------------------------

    def start(self) -> None:
        self.timer = PeriodicCallback(self.beat, self.settings.interval * 1000)
        self.timer.start()

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.stop()
            self.timer = None
        if self.client is not None:
            self.client.close()
            self.client = None

    async def beat(self) -> None:
        """One round: what was used since the last one goes to aw-server (unless waiting out a backoff)."""
        now = self.clock()
        self.activity.advance(now)
        if now < self.retry_at:
            return
        if self.activity.dropped:
            self.log.warning(
                "jupyter-helpers: the oldest %d stretches of Jupyter use were dropped while "
                "ActivityWatch at %s could not be reached",
                self.activity.dropped,
                self.settings.url,
            )
            self.activity.dropped = 0
        segments = self.activity.take(now)
        sent = 0
        try:
            sent = await self._send(segments)
        except Exception as exc:  # never let one bad round end the heartbeats
            self.problem = f"{type(exc).__name__}: {exc}"
            if self.problem != self.fault:  # a fault of ours, not aw-server being away: said, with its traceback
                self.log.exception("jupyter-helpers: ActivityWatch heartbeats failed (said once per kind)")
            self.fault = self.problem
        self.activity.give_back(segments[sent:])
        if self.problem:
            self._failed(self.problem, now)
        else:
            self._reached()

    async def _send(self, segments: list[Segment]) -> int:
        """How many of `segments` aw-server took, in order; it stops at the first one not taken,
        and self.problem then says why (empty when all went)."""
        self.problem = ""
        if not self.bucket_ready and not await self._create_bucket():
            return 0
        for number, segment in enumerate(segments):
            code = await self._heartbeat(segment)
            if code == 404:  # aw-server restarted without its data: the bucket is gone
                if not await self._create_bucket():
                    return number
                self.problem = ""
                code = await self._heartbeat(segment)
            if code != 200:
                return number
        return len(segments)

    async def _create_bucket(self) -> bool:
        code = await self._call(
            "POST",
            f"buckets/{quote(self.bucket, safe='')}",
            {"client": CLIENT, "type": BUCKET_TYPE, "hostname": self.host},
        )
        self.bucket_ready = code in (200, 304)  # created, or there already
        return self.bucket_ready

    async def _heartbeat(self, segment: Segment) -> int:
        path = f"buckets/{quote(self.bucket, safe='')}/heartbeat?pulsetime={self.pulsetime:g}"
        return await self._call(
            "POST",
            path,
            {
                "timestamp": datetime.fromtimestamp(segment.start, UTC).isoformat(),
                "duration": round(segment.end - segment.start, 6),
                "data": segment.data,
            },
        )

    async def _call(self, method: str, path: str, body: object) -> int:
        """The answer's status; anything but 200 or 304 leaves the reason in self.problem."""
        headers = {"Content-Type": "application/json"}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        request = HTTPRequest(
            self.api + path,
            method=method,
            body=json.dumps(body),
            headers=headers,
            connect_timeout=REQUEST_TIMEOUT,
            request_timeout=REQUEST_TIMEOUT,
        )
        if self.client is None:
            self.client = AsyncHTTPClient(force_instance=True, max_clients=2, max_body_size=MAX_ANSWER)
        try:
            response = await self.client.fetch(request, raise_error=False)
        except (OSError, HTTPClientError) as exc:  # refused, timed out, no such host
            self.problem = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
            return 599
        if response.code in (401, 403):
            self.problem = f"refused (HTTP {response.code}): check c.ActivityWatch.api_key"
        elif response.code not in (200, 304):
            self.problem = f"HTTP {response.code} {response.reason}"
        return response.code

    def _reached(self) -> None:
        if self.reached is not True:
            again = " again" if self.reached is False else ""
            self.log.info(
                "jupyter-helpers: heartbeats reach ActivityWatch at %s%s (bucket %s)",
                self.settings.url,
                again,
                self.bucket,
            )
        self.reached, self.failures, self.retry_at = True, 0, 0.0

    def _failed(self, problem: str, now: float) -> None:
        if self.reached is not False:
            self.log.warning(
                "jupyter-helpers: ActivityWatch at %s cannot be reached (%s); Jupyter time is kept "
                "and sent once it answers (said once)",
                self.settings.url,
                problem,
            )
        self.reached, self.bucket_ready = False, False
        self.failures += 1
        self.retry_at = now + min(self.settings.interval * 2 ** (self.failures - 1), MAX_BACKOFF)


def kernel_languages(serverapp: Any) -> Callable[[str], str | None]:
    """kernel id -> its kernelspec's language ("python"), None when unknown; one lookup per spec."""
    languages: dict[str, str | None] = {}

    def language(kernel_id: str) -> str | None:
        try:
            name = serverapp.kernel_manager.get_kernel(kernel_id).kernel_name
        except KeyError:
            return None
        if name not in languages:
            try:
                languages[name] = serverapp.kernel_spec_manager.get_kernel_spec(name).language or None
            except Exception:  # a spec removed or unreadable since the kernel started
                languages[name] = None
        return languages[name]

    return language


def read_settings(serverapp: Any) -> ActivityWatch | None:
    """`c.ActivityWatch`, when heartbeats are on and their settings usable (else one line says why not)."""
    try:
        settings = ActivityWatch(parent=serverapp)
    except TraitError as exc:
        serverapp.log.error("jupyter-helpers: ActivityWatch heartbeats are off: %s", exc)
        return None
    if not settings.heartbeats:
        return None
    problem = settings.problem()
    if problem:
        serverapp.log.error("jupyter-helpers: ActivityWatch heartbeats are off: %s", problem)
        return None
    return settings
