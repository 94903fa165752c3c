"""The one exception type the CLI turns into a single line for the user (never a traceback)."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; `str()` says what was wrong and what to do."""

    exit_code = 2
