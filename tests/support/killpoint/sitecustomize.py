"""Kills this process (SIGKILL) right after its Nth file-system step, for kill-midway tests.

Put this folder on PYTHONPATH and set JH_KILL_AFTER=N: the Nth call of os.mkdir, os.rmdir,
os.replace, os.unlink or os.fsync completes, then the process dies as a kill -9 would leave it.
Steps are counted from the first call of our code, so N walks through every moment of a command.
"""

import os
import signal

_limit = int(os.environ.get("JH_KILL_AFTER") or 0)
if _limit:
    _count = 0

    def _counted(function):
        def step(*args, **kwargs):
            global _count
            result = function(*args, **kwargs)
            _count += 1
            if _count >= _limit:
                os.kill(os.getpid(), signal.SIGKILL)
            return result

        return step

    for _name in ("mkdir", "rmdir", "replace", "unlink", "fsync"):
        setattr(os, _name, _counted(getattr(os, _name)))
