"""One kernel process's IOPub, followed for what a death message needs: since when the kernel is
busy, and in which cell.

Only what is read is subscribed to. ipykernel publishes `status` and `execute_input` under the
topic `kernel.<id>.<type>` and output under others (`stream.stdout`, `display_data`,
`execute_result`), so the `kernel.` prefix keeps a kernel that prints megabytes from costing the
server anything (a SUB socket drops what it did not subscribe to before it reaches Python). Kernels
that use the message type as topic are followed too; a kernel that publishes without topics is
not (its deaths are told without busy time and cell). Not the delimiter as a prefix: ipykernel
answers every new subscription with an `iopub_welcome` whose topic is the prefix, to every
subscriber it matches, and a topic equal to the delimiter breaks every other client's parsing.
Messages are parsed by a clone of the kernel's own jupyter_client `Session` (the signature
checked), the content only of the two types read.

A SUB socket joins some milliseconds (seconds on a loaded machine) after it connects, and a cell
started before then is not seen. The first message that arrives through the subscription confirms
it (`confirmed`): ipykernel 7's `iopub_welcome`, else the `status` of a `kernel_info_request` the
follower sends on a shell channel of its own (as jupyter_server does after a restart), again until
one arrives.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import zmq

TOPICS = (b"kernel.", b"status", b"execute_input")


class KernelActivity:
    """What one kernel's IOPub said last: busy since when (monotonic), in which cell, whether a
    cell started since `reset`."""

    def __init__(self, manager: Any, confirmed: Callable[[], None]) -> None:
        """`confirmed`: called once per connection, on the first message it receives."""
        self.manager = manager
        self.on_confirmed = confirmed
        self.session = manager.session.clone()
        self.stream: Any = None
        self.shell: Any = None
        self.ports: tuple[int, int] | None = None
        self.confirmed = False
        self.busy_since: float | None = None
        self.cell: int | None = None
        self.ran = False

    def reset(self) -> None:
        """A death: what the old process said no longer holds, and its successor must confirm."""
        self.busy_since = self.cell = None
        self.ran = self.confirmed = False

    def connect(self) -> None:
        """Subscribes to the kernel's current IOPub port (a restart within a kernel's first seconds
        takes new ports); the same ports keep the subscription, which ZeroMQ reconnects itself."""
        ports = (self.manager.iopub_port, self.manager.shell_port)
        if self.stream is not None and not self.stream.closed() and ports == self.ports:
            return
        self.close()
        self.confirmed = False
        self.stream = self.manager.connect_iopub()
        self.stream.socket.setsockopt(zmq.UNSUBSCRIBE, b"")
        for topic in TOPICS:
            self.stream.socket.setsockopt(zmq.SUBSCRIBE, topic)
        self.stream.on_recv(self.received)
        self.ports = ports

    def ask(self) -> None:
        """One `kernel_info_request`: the kernel's answer includes a `status` on IOPub."""
        if self.shell is None or self.shell.closed():
            self.shell = self.manager.connect_shell()
            self.shell.on_recv(lambda frames: None)  # the reply itself tells nothing
        self.session.send(self.shell, "kernel_info_request")

    def stop_asking(self) -> None:
        if self.shell is not None and not self.shell.closed():
            self.shell.close()
        self.shell = None

    def close(self) -> None:
        self.stop_asking()
        if self.stream is not None and not self.stream.closed():
            self.stream.close()
        self.stream = None

    def received(self, frames: list[bytes]) -> None:
        """One IOPub message: only `status` (of an execute request) and `execute_input` count."""
        try:
            _, fed = self.session.feed_identities(frames)
            message = self.session.deserialize(fed, content=False)
            kind = message["header"]["msg_type"]
            if kind == "execute_input":
                count = self.session.unpack(message["content"]).get("execution_count")
                self.cell = count if isinstance(count, int) else None
                self.ran = True
            elif kind == "status" and message["parent_header"].get("msg_type") == "execute_request":
                state = self.session.unpack(message["content"]).get("execution_state")
                if state == "busy" and self.busy_since is None:
                    self.busy_since = time.monotonic()
                elif state == "idle":
                    self.busy_since, self.cell = None, None
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            return  # not a message of this kernel's session, or of a shape we know: it tells nothing
        if not self.confirmed:
            self.confirmed = True
            self.on_confirmed()
