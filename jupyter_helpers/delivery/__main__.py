"""`python -P -m jupyter_helpers.delivery`: serve message requests (see send.py);
`... --check`: print one JSON line saying whether the channel can deliver (for `status`)."""

from __future__ import annotations

import json
import sys

from ..common import paths


def main(argv: list[str]) -> int:
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
