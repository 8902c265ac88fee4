"""Cheap readability check for listed image files, shared by the dataset readers.

Readers run over tens of thousands of files, so they only look at the first bytes: a file that is empty or does
not start with a JPEG, PNG or BMP signature is reported at once with its path, instead of failing deep inside a
training run. Full decoding happens later, in the image cache.
"""

from __future__ import annotations

from pathlib import Path

from mmm.data.errors import DatasetError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
_SIGNATURES = (
    b"\xff\xd8\xff",  # JPEG
    b"\x89PNG\r\n\x1a\n",  # PNG
    b"BM",  # BMP
)
_HEAD_BYTES = 8


def is_image_name(path: Path) -> bool:
    """Whether a file name has one of the image suffixes the readers accept (case-insensitive)."""
    return path.suffix.lower() in IMAGE_SUFFIXES


def check_image_file(path: Path) -> None:
    """Raise DatasetError unless path is a non-empty file starting with a JPEG, PNG or BMP signature."""
    try:
        with path.open("rb") as handle:
            head = handle.read(_HEAD_BYTES)
    except FileNotFoundError:
        raise DatasetError(path, "listed image does not exist") from None
    except OSError as exc:
        raise DatasetError(path, f"listed image cannot be opened ({exc.strerror})") from None
    if not head:
        raise DatasetError(path, "listed image is empty (0 bytes); expected a JPEG, PNG or BMP file")
    if not any(head.startswith(signature) for signature in _SIGNATURES):
        raise DatasetError(path, "listed image is not a JPEG, PNG or BMP file (unrecognised header bytes)")
