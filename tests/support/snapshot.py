"""A byte-level picture of a directory tree, to prove that uninstall/undo leave no trace."""

from __future__ import annotations

import hashlib
from pathlib import Path


def snapshot(root: Path) -> dict[str, str]:
    """Relative path -> sha256 (files), 'dir' (directories) or 'link -> target' (symlinks, which
    count as themselves, so replacing a link by a file shows), for every entry under root."""
    entries = {}
    for path in sorted(root.rglob("*")):
        key = str(path.relative_to(root))
        if path.is_symlink():
            entries[key] = f"link -> {path.readlink()}"
        else:
            entries[key] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return entries
