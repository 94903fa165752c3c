"""Autonotify's options as traitlets, so users set `c.AutoNotify.after = 300` in their profile's
ipython_config.py (or ipython_kernel_config.py) like any IPython option."""

from __future__ import annotations

from traitlets import Bool, Float, Int, Unicode
from traitlets.config import Configurable


class AutoNotify(Configurable):
    enabled = Bool(True, help="Notify about long cells from the start of every kernel.").tag(config=True)
    after = Float(60.0, min=0.0, help="Seconds a cell must run before it sends a notification.").tag(config=True)
    message = Unicode("", help="Text added to every notification (e.g. what to do next).").tag(config=True)
    backend = Unicode(
        "", help="ntfy backend to use ('' = the backends in ntfy.yml, else telegram)."
    ).tag(config=True)
    send_timeout = Float(30.0, min=1.0, help="Seconds a send may take before it is abandoned.").tag(config=True)
    excerpt_length = Int(200, min=0, help="Characters of the cell's result shown in a notification.").tag(
        config=True
    )
