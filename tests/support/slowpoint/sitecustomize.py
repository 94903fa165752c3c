"""Slows the sender thread right after it starts a delivery child, for hand-off tests.

Put this folder on PYTHONPATH and set JH_SLOW_SENDER=SECONDS: in the thread named
`jupyter-helpers-sender`, every `subprocess.Popen` returns that much later, as it can on a machine
at load 16 (the child is running, but the thread has not handed it its message yet).
"""

import os
import subprocess
import threading
import time

_delay = float(os.environ.get("JH_SLOW_SENDER") or 0)
if _delay:
    _original_init = subprocess.Popen.__init__

    def _slow_init(self, *args, **kwargs):
        _original_init(self, *args, **kwargs)
        if threading.current_thread().name == "jupyter-helpers-sender":
            time.sleep(_delay)

    subprocess.Popen.__init__ = _slow_init
