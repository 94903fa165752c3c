"""The `status` line about ActivityWatch heartbeats: do they reach aw-server?

Reads the settings the Jupyter server reads (`c.ActivityWatch.*` in the Jupyter config files),
then asks that aw-server for the Jupyter bucket and when it last grew. aw-server not running is
no error (heartbeats are optional and wait for it); a refusal (wrong API key) is.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from datetime import UTC, datetime

from ..common.editor_bucket import bucket_id
from ..common.text import human_duration
from .effective_config import ConfigUnreadable, activitywatch_server, server_section

TIMEOUT = 3.0


def check_heartbeats(now: datetime | None = None) -> tuple[bool, str]:
    try:
        enabled, source = server_section("ActivityWatch").get("heartbeats", (None, None))
        url, api_key = activitywatch_server()
    except ConfigUnreadable as exc:
        return (False, str(exc))
    if enabled is False:
        return (True, f"ActivityWatch heartbeats: off (c.ActivityWatch.heartbeats = False in {source})")
    url = url.rstrip("/")
    bucket = bucket_id(socket.gethostname())
    try:  # aw-server listens on loopback: no proxy from the environment
        request = urllib.request.Request(
            f"{url}/api/0/buckets/", headers={"Authorization": f"Bearer {api_key}"} if api_key else {}
        )
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=TIMEOUT) as response:
            buckets = json.loads(response.read(10_000_000))
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            return (
                False,
                f"ActivityWatch at {url} refuses heartbeats (HTTP {exc.code}): set "
                "c.ActivityWatch.api_key in jupyter_server_config.py to its API key",
            )
        return (False, f"ActivityWatch at {url} answers HTTP {exc.code}: is c.ActivityWatch.url right?")
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        reason = getattr(reason, "strerror", None) or reason
        return (
            True,
            f"ActivityWatch heartbeats: nothing answers at {url} ({reason}); Jupyter time "
            "reaches it once aw-server runs (optional)",
        )
    info = buckets.get(bucket) if isinstance(buckets, dict) else None
    if not isinstance(info, dict):
        return (
            True,
            f"ActivityWatch heartbeats: aw-server at {url} has no bucket {bucket} yet (a Jupyter "
            "server started since install creates it within 10 s)",
        )
    try:
        last = datetime.fromisoformat(str(info["last_updated"]))
        ago = ((now or datetime.now(UTC)) - last).total_seconds()
        when = f"last heartbeat {human_duration(max(ago, 0.0))} ago"
    except (KeyError, ValueError, TypeError):
        when = "no heartbeat yet"
    return (True, f"ActivityWatch heartbeats reach {url}: bucket {bucket}, {when}")
