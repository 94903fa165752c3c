"""`python -P -m jupyter_helpers.delivery`: serve message requests (see send.py);
`... --check`: print one JSON line saying whether the channel can deliver (for `status`)."""

from __future__ import annotations

import json
import signal
import sys

from ..common import paths
from ..common.child import GROUP_SIGNALS


def drop_signals_meant_for_the_kernel() -> None:
    """The kernel starts this process with GROUP_SIGNALS blocked (common/child.py): any that are
    pending were sent to the kernel's process group before this one had a session of its own.
    An ignored signal that is pending is discarded; then they are taken as usual again."""
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in GROUP_SIGNALS}
    signal.pthread_sigmask(signal.SIG_UNBLOCK, GROUP_SIGNALS)
    for signum, handler in previous.items():
        signal.signal(signum, signal.SIG_DFL if handler is None else handler)  # None: not set from Python


def main(argv: list[str]) -> int:
    drop_signals_meant_for_the_kernel()
    paths.drop_unusable_xdg_config_home()
    if argv[:1] == ["--check"]:
        import ntfy

        from .channel import check

        ok, text, chosen = check()
        print(json.dumps({"ok": ok, "text": text, "ntfy": ntfy.__version__, "backends": chosen}))
        return 0
    from .send import serve

    return serve()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
