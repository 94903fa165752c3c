"""Makes chosen top-level modules unimportable in this process and records every attempt, so a
test can prove that a runtime never even tries them (a swallowed ImportError included)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from importlib.abc import MetaPathFinder


class Blocker(MetaPathFinder):
    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(names)
        self.attempts: list[str] = []

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        if fullname.split(".")[0] in self.names:
            self.attempts.append(fullname)
            raise ModuleNotFoundError(f"No module named {fullname!r} (blocked by the test)", name=fullname)
        return None


def block(names: Iterable[str]) -> Blocker:
    blocker = Blocker(names)
    sys.meta_path.insert(0, blocker)
    return blocker
