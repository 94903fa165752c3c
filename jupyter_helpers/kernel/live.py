"""A run's live message: one silent Telegram message, edited in place while the run goes on, and
ended (edited a last time to a text that does not start with ⏳) after the run's final message.

The closing thread (kernel/watcher.py) composes the text every `live_every` seconds and calls
`update`; the delivery child does the talking (common/sender.py `submit_live`), and its replies
come back on the sender's worker thread (`_replied`). Telegram's answers: "not modified" is a
success; "message to edit not found" (the user deleted it) stops this run's edits; 429 holds the
next step until `retry_after` has passed (the sender holds the ending until then, and hands it
on at kernel exit: the final message is never held by it); an ending refused or lost is tried
again, at most ENDING_TRIES times. While the message exists its id and text are in the live record
(common/live_record.py), so that the server can end it if the kernel dies. Before that, while the
silent send is in flight, only the delivery child can learn the id: if the kernel is gone when
Telegram answers, the child ends the message itself (the send carries that text, `live_orphaned`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..common.delivery_protocol import DELETE, EDIT, SEND
from ..common.live_record import LiveRecord, live_file, remove_live, write_live
from .message import live_orphaned
from .presence import own_kernel

ENDING_TRIES = 3  # an ending refused (429) or lost (no answer in time): tried at most this often, the last as a delete


class LiveMessage:
    def __init__(
        self,
        sender: Any,
        refused: Callable[[str], None],
        place: tuple[str | None, str | None],
        started: float,
        backend: str = "",
    ) -> None:
        self.sender, self.refused, self.backend = sender, refused, backend
        self.notebook, self.project = place
        self.started = started  # time.time() of the run's start, for the server
        self.id: int | None = None  # Telegram's message id, once the silent send returned it
        self.text: str | None = None  # what the message says now
        self.closed = False  # the run is over: nothing edits it but the ending
        self.gone = False  # deleted by the user, or live messages cannot be sent: leave it alone
        self._in_flight = 0  # steps handed to the sender, not answered yet (they go in order)
        self._not_before = 0.0  # monotonic: Telegram asked to wait until then (429)
        self._ending: str | None = None  # the last text, until it is handed to the sender
        self._ending_tries = 0
        self._lock = threading.Lock()
        self._record = _own_record_path()

    def update(self, text: str) -> None:
        """A look while the run goes on: send the message the first time, then edit it when the
        text changed (skipped while a step is in flight or Telegram asked to wait)."""
        with self._lock:
            if self.closed or self.gone or self._in_flight or text == self.text or time.monotonic() < self._not_before:
                return
            verb = EDIT if self.id is not None else SEND
            self._in_flight += 1
        self._submit(verb, text, ending=False)

    def end(self, text: str) -> None:
        """The run is over and its final message was handed on: the last edit, `text` (queued
        behind a step in flight; after the silent send's reply when the id is not known yet)."""
        with self._lock:
            self.closed, self._ending = True, text
        self._finish()

    def _submit(self, verb: str, text: str, ending: bool, not_before: float = 0.0) -> None:
        def replied(outcome: Any) -> None:
            self._replied(outcome, text, ending)

        orphaned = live_orphaned(self.notebook, self.project) if verb == SEND else ""
        self.sender.submit_live(verb, text, self.id, replied, self.backend, not_before, orphaned)

    def _finish(self) -> None:
        with self._lock:
            text = self._ending
            if text is None or (self.id is None and self._in_flight):
                return  # the silent send's reply brings the id, and comes back here
            self._ending = None
            if self.id is None or self.gone:
                done = not self._in_flight
            else:
                done = False
                self._in_flight += 1
                self._ending_tries += 1
                verb = DELETE if self._ending_tries == ENDING_TRIES else EDIT
                not_before = self._not_before
        if done:
            self._forget()
        elif self.id is not None and not self.gone:
            # held by the sender while Telegram asked to wait (the final message went out already),
            # and handed on with the queue at kernel exit
            self._submit(verb, text, True, not_before)

    def _replied(self, outcome: Any, text: str, ending: bool) -> None:
        """The outcome of one step (the sender's worker thread)."""
        reply = outcome.reply
        with self._lock:
            self._in_flight -= 1
            failed = reply is None or not (reply.ok or reply.gone or reply.cannot)
            if ending and failed and self._ending is None and self._ending_tries < ENDING_TRIES:
                self._ending = text  # refused (429), lost or failed: again, or the chat keeps ⏳
            unknown = reply is None or not (reply.ok or reply.retry_after or reply.cannot)
            if self.id is None and not ending and unknown:
                # the silent send failed or timed out, and Telegram may still have made it: a
                # second one could be a duplicate, so this run's live message stops here
                self.gone = True
            elif reply is None:  # the child failed or timed out: the next look tries again
                pass
            elif reply.cannot:
                self.gone = True
                self.refused(reply.reason)
            elif reply.ok:
                if self.id is None and reply.message_id is not None:
                    self.id = reply.message_id
                self.text = text
            elif reply.gone:
                self.gone = True
            elif reply.retry_after is not None:
                self._not_before = time.monotonic() + reply.retry_after
            closed, idle = self.closed, not self._in_flight and self._ending is None
            record = self._current_record()
        if closed:
            if idle:
                self._forget()
            else:
                self._finish()
        elif record is not None and self._record is not None:
            try:
                write_live(self._record, record)
            except OSError:
                pass  # the server cannot end it at a death; the run's own end still does
        elif self.gone:
            self._forget()

    def _current_record(self) -> LiveRecord | None:
        if self.id is None or self.text is None or self.gone:
            return None
        return LiveRecord(
            kernel=self._record.stem if self._record is not None else "",
            message_id=self.id,
            text=self.text,
            notebook=self.notebook,
            project=self.project,
            started=self.started,
            backend=self.backend,
        )

    def _forget(self) -> None:
        if self._record is not None:
            remove_live(self._record)


def _own_record_path() -> Path | None:
    """Where this kernel's live record goes (None: no Jupyter server started it)."""
    kernel = own_kernel()
    if kernel is None:
        return None
    try:
        return live_file(*kernel)
    except ValueError:
        return None
