"""Watches what the shell displays, at no cost to cells that display nothing.

Two methods are wrapped on the shell's own objects (instance attributes, removed on unload): the
display hook's `write_format_data`, which receives the result the cell's last expression was
rendered to (so the excerpt reuses that text/plain and never calls `__repr__` a second time), and
the display publisher's `publish`, through which every `display()` and matplotlib's inline figures
pass. Each wrapper only keeps a reference; decoding happens when a run notifies.
"""

from __future__ import annotations

from typing import Any

IMAGE_TYPES = ("image/png", "image/jpeg")
_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


class DisplayCapture:
    __slots__ = ("text", "image", "_hook", "_publisher")

    def __init__(self) -> None:
        self.text: str | None = None  # text/plain of the last displayed result, until taken
        self.image: object = None  # the last image payload displayed, until taken
        self._hook: Any = None
        self._publisher: Any = None

    def attach(self, shell: Any) -> None:
        hook, publisher = getattr(shell, "displayhook", None), getattr(shell, "display_pub", None)
        if hook is not None and hasattr(hook, "write_format_data"):
            original_write = hook.write_format_data

            def write_format_data(format_dict: dict, md_dict: Any = None) -> Any:
                self._seen(format_dict, result=True)
                return original_write(format_dict, md_dict)

            hook.write_format_data = write_format_data
            self._hook = hook
        if publisher is not None and hasattr(publisher, "publish"):
            original_publish = publisher.publish

            def publish(data: dict, *args: Any, **kwargs: Any) -> Any:
                self._seen(data, result=False)
                return original_publish(data, *args, **kwargs)

            publisher.publish = publish
            self._publisher = publisher

    def detach(self) -> None:
        """Removes the wrappers (the class's own methods show through again)."""
        for owner, name in ((self._hook, "write_format_data"), (self._publisher, "publish")):
            if owner is not None and name in vars(owner):
                delattr(owner, name)
        self._hook = self._publisher = None

    def _seen(self, data: Any, result: bool) -> None:
        try:
            if result:
                self.text = data.get("text/plain")
            for kind in IMAGE_TYPES:
                if kind in data:
                    self.image = data[kind]
        except Exception:
            pass  # an odd mime bundle is the display machinery's business, not ours


def payload_size(payload: object) -> int:
    """About how many bytes a payload decodes to, found without decoding (or copying) it: a
    300 MB picture must be turned away before it costs the kernel another 300 MB."""
    if isinstance(payload, (bytes, bytearray)) and bytes(payload[:8]).startswith(_MAGIC):
        return len(payload)
    if isinstance(payload, (str, bytes, bytearray)):
        return len(payload) * 3 // 4  # base64
    return 0


def image_bytes(payload: object) -> bytes | None:
    """PNG/JPEG bytes from a mime-bundle value (raw bytes, or base64 text as Jupyter carries it)."""
    import base64
    import binascii

    if isinstance(payload, (bytes, bytearray)):
        raw = bytes(payload)
        if raw.startswith(_MAGIC):
            return raw
        payload = raw.decode("ascii", errors="replace")
    if not isinstance(payload, str):
        return None
    try:
        raw = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError):
        return None
    return raw if raw.startswith(_MAGIC) else None


class PrintedTail:
    """The last text a cell printed to standard output, for a live message when no progress bar
    runs. ipykernel's output stream (a Python object) gets a `write` wrapper that keeps the last
    few KB written (`print("epoch", i, "loss", x)` writes each argument and separator on its own,
    so the last chunk alone is not the last line): a slice and a join per write, nothing per
    cell. A terminal IPython's real file cannot be wrapped, and has no live message to show it in."""

    __slots__ = ("last", "_stream")
    KEEP = 4096  # characters: the last line of any sane output, at a bounded cost per write

    def __init__(self) -> None:
        self.last: str | None = None
        self._stream: Any = None

    def attach(self, stream: Any) -> None:
        if not type(stream).__module__.startswith("ipykernel"):
            return
        original = stream.write
        keep = self.KEEP

        def write(text: Any) -> Any:
            if text and isinstance(text, str):
                self.last = ((self.last or "") + text[-keep:])[-keep:]
            return original(text)

        try:
            stream.write = write
        except AttributeError:
            return
        self._stream = stream

    def detach(self) -> None:
        if self._stream is not None and "write" in vars(self._stream):
            del self._stream.write
        self._stream = None

    def line(self, limit: int) -> str | None:
        """The last line printed, cleaned and cut like every message's text (None: nothing)."""
        from ..common.text import clean

        last = self.last
        if not isinstance(last, str):
            return None
        lines = [line for line in last.replace("\r", "\n").splitlines() if line.strip()]
        return (clean(lines[-1], limit) or None) if lines else None
