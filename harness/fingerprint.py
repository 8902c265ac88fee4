"""A short hash of a dataset tree: the sorted relative paths and sizes of its files. It tells two trees apart
(another copy, edited or missing images) yet is the same for one tree copied to several machines, since
neither modification times nor the absolute location enter it."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

FINGERPRINT_CHARS = 12


def tree_fingerprint(root: Path) -> str:
    """Hash of every non-hidden file below `root` (hidden files such as .DS_Store are left out)."""
    digest = hashlib.sha256()
    entries = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in files:
            if name.startswith("."):
                continue
            path = Path(folder, name)
            entries.append((path.relative_to(root).as_posix(), path.stat().st_size))
    for relative, size in sorted(entries):
        digest.update(f"{relative}\0{size}\n".encode("utf-8"))
    return digest.hexdigest()[:FINGERPRINT_CHARS]
