"""The one walk of a dataset tree: every file below a root, as the readers, the data check and the fingerprint
see it, and the fingerprint itself.

Symbolic links are followed, so a dataset put together from links reads whole, but a link that points back into
a folder being walked (a loop), one that resolves to itself, and one whose target is gone (dangling) each stop
the walk with one DatasetError naming the link: the same line wherever the tree is read. Hidden entries (names
starting with a dot: .DS_Store, .git) are left out.

The fingerprint is one hash over the sorted relative paths and sizes of the files. It tells two trees apart
(another copy, edited or missing images) yet is the same for one tree copied to several machines, since neither
modification times nor the absolute location enter it; no file is read.
"""

from __future__ import annotations

import errno
import functools
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from mmm.data.errors import DatasetError
from mmm.data.image_magic import is_image_name

# Hex digits of the fingerprint shown to people (the data check) and kept in run keys.
SHORT_DIGITS = 16
KEY_DIGITS = 12


@dataclass(frozen=True)
class TreeFile:
    relative: str  # POSIX path below the root
    size: int  # bytes (of the link's target for a link)


@dataclass(frozen=True)
class TreeFingerprint:
    digest: str  # full sha256 hex digest
    files: int
    bytes: int

    @property
    def short(self) -> str:
        return f"sha256:{self.digest[:SHORT_DIGITS]}"

    @property
    def key(self) -> str:
        """The part of the digest a run key keeps."""
        return self.digest[:KEY_DIGITS]

    def as_dict(self) -> dict[str, object]:
        return {"fingerprint": self.short, "files": self.files, "bytes": self.bytes}


@dataclass(frozen=True)
class TreeListing:
    """The regular files below `root`, sorted by relative path."""

    root: Path
    files: tuple[TreeFile, ...]

    def paths(self) -> list[Path]:
        return [self.root / file.relative for file in self.files]

    def images(self) -> list[Path]:
        """Every file with an image suffix the readers accept."""
        return [self.root / file.relative for file in self.files if is_image_name(Path(file.relative))]

    def images_in(self, folder: str) -> list[Path]:
        """The image files directly inside `folder` (relative to the root, e.g. "cam1/0001"), sorted."""
        return self._images_by_folder.get(folder.strip("/"), [])

    @functools.cached_property
    def _images_by_folder(self) -> dict[str, list[Path]]:
        folders: dict[str, list[Path]] = {}
        for file in self.files:
            if is_image_name(Path(file.relative)):
                folders.setdefault(file.relative.rpartition("/")[0], []).append(self.root / file.relative)
        return folders

    def fingerprint(self) -> TreeFingerprint:
        digest = hashlib.sha256()
        for file in self.files:
            digest.update(f"{file.relative}\0{file.size}\n".encode("utf-8", "surrogateescape"))
        return TreeFingerprint(digest.hexdigest(), len(self.files), sum(file.size for file in self.files))


def walk_tree(root: Path) -> TreeListing:
    """Every regular file below `root`; DatasetError for a root that is not a folder, a link loop or a dangling
    link."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(root, "not a folder; expected a dataset tree")
    files: list[TreeFile] = []
    _walk(root, "", [_identity(root, root)], files)
    return TreeListing(root, tuple(sorted(files, key=lambda file: file.relative)))


def _identity(path: Path, link: Path) -> tuple[int, int]:
    info = _stat(path, link)
    return info.st_dev, info.st_ino


def _stat(path: Path, link: Path) -> os.stat_result:
    """The status of `path` with links followed; a loop or a dangling link is a DatasetError naming `link`."""
    try:
        return path.stat()
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise DatasetError(link, "symbolic link loop (the link resolves to itself)") from None
        if error.errno == errno.ENOENT and link.is_symlink():
            raise DatasetError(
                link, f"dangling symbolic link (its target {os.readlink(link)} does not exist)"
            ) from None
        raise DatasetError(link, f"cannot be read ({error.strerror})") from None


def _walk(folder: Path, relative: str, ancestors: list[tuple[int, int]], files: list[TreeFile]) -> None:
    try:
        names = sorted(entry.name for entry in os.scandir(folder))
    except OSError as error:
        raise DatasetError(folder, f"folder cannot be listed ({error.strerror})") from None
    for name in names:
        if name.startswith("."):
            continue
        path = folder / name
        info = _stat(path, path)
        child = f"{relative}{name}"
        if stat.S_ISDIR(info.st_mode):
            identity = (info.st_dev, info.st_ino)
            if identity in ancestors:
                raise DatasetError(path, f"symbolic link loop (it leads back to {os.path.realpath(path)})")
            _walk(path, f"{child}/", [*ancestors, identity], files)
        elif stat.S_ISREG(info.st_mode):
            files.append(TreeFile(child, info.st_size))
