"""A fingerprint of a dataset tree: one hash over the sorted relative paths and sizes of all its files.

Two copies of a dataset with the same fingerprint hold the same files at the same sizes; it is cheap (no file
is read) and does not depend on where the tree sits or on modification times, so users can compare theirs
with someone else's.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from mmm.data.errors import DatasetError

# Hex digits kept in the displayed fingerprint: enough to tell trees apart, short enough to read aloud.
SHORT_DIGITS = 16


@dataclass(frozen=True)
class TreeFingerprint:
    digest: str  # full sha256 hex digest
    files: int
    bytes: int

    @property
    def short(self) -> str:
        return f"sha256:{self.digest[:SHORT_DIGITS]}"

    def as_dict(self) -> dict[str, object]:
        return {"fingerprint": self.short, "files": self.files, "bytes": self.bytes}


def fingerprint_tree(root: Path) -> TreeFingerprint:
    """The fingerprint of every regular file below root (symbolic links to files count as their target)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(root, "cannot fingerprint: not a folder")
    entries: list[tuple[str, int]] = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_file():
                entries.append((path.relative_to(root).as_posix(), path.stat().st_size))
    entries.sort()
    digest = hashlib.sha256()
    for relative, size in entries:
        digest.update(f"{relative}\0{size}\n".encode("utf-8", "surrogateescape"))
    return TreeFingerprint(digest.hexdigest(), len(entries), sum(size for _, size in entries))
