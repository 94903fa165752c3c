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
from .status import Check, ConfigUnreadable, _server_config_files, _setting

DEFAULT_URL = "http://127.0.0.1:5600"
TIMEOUT = 3.0


def check_heartbeats(now: datetime | None = None) -> Check:
    files = _server_config_files()
    try:
        enabled, source = _setting(files, "ActivityWatch", "heartbeats")
        url = _setting(files, "ActivityWatch", "url")[0] or DEFAULT_URL
        api_key = _setting(files, "ActivityWatch", "api_key")[0] or ""
    except ConfigUnreadable as exc:
        return Check(False, str(exc))
    if enabled is False:
        return Check(True, f"ActivityWatch heartbeats: off (c.ActivityWatch.heartbeats = False in {source})")
    url = str(url).rstrip("/")
    bucket = bucket_id(socket.gethostname())
    request = urllib.request.Request(f"{url}/api/0/buckets/",
                                     headers={"Authorization": f"Bearer {api_key}"} if api_key else {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            buckets = json.loads(response.read(10_000_000))
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            return Check(False, f"ActivityWatch at {url} refuses heartbeats (HTTP {exc.code}): set "
                                "c.ActivityWatch.api_key in jupyter_server_config.py to its API key")
        return Check(False, f"ActivityWatch at {url} answers HTTP {exc.code}: is c.ActivityWatch.url right?")
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Check(True, f"ActivityWatch heartbeats: nothing answers at {url} ({reason}); Jupyter time "
                           "reaches it once aw-server runs (optional)")
    info = buckets.get(bucket) if isinstance(buckets, dict) else None
    if not isinstance(info, dict):
        return Check(True, f"ActivityWatch heartbeats: aw-server at {url} has no bucket {bucket} yet (a Jupyter "
                           "server started since install creates it within 10 s)")
    try:
        last = datetime.fromisoformat(str(info["last_updated"]))
        ago = ((now or datetime.now(UTC)) - last).total_seconds()
        when = f"last heartbeat {human_duration(max(ago, 0.0))} ago"
    except (KeyError, ValueError, TypeError):
        when = "no heartbeat yet"
    return Check(True, f"ActivityWatch heartbeats reach {url}: bucket {bucket}, {when}")
