"""Decode every image file of a tree once, as the image cache would, and list the ones that fail.

The readers only look at a file's first bytes; a truncated download or a damaged file passes them and would
fail deep inside the first training epoch. Decoding everything up front names all such files at once.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

from tqdm import tqdm

from mmm.data.errors import DatasetError
from mmm.data.image_magic import is_image_name
from mmm.data.image_store import decode_image

# Decoding releases the GIL inside PIL, so a few threads keep the cores busy; more only add memory.
MAX_WORKERS = 4


def image_files(root: Path) -> list[Path]:
    """Every file below root with an image suffix, sorted."""
    return sorted(
        Path(folder) / name for folder, _dirs, names in os.walk(root) for name in names if is_image_name(Path(name))
    )


def unreadable_images(paths: Sequence[Path], height: int, width: int, label: str, progress: bool) -> list[DatasetError]:
    """The decoding error of each path that cannot be decoded (and resized to height × width), in path order."""
    workers = max(1, min(MAX_WORKERS, os.cpu_count() or 1))
    failures: list[DatasetError] = []
    with (
        ThreadPoolExecutor(max_workers=workers) as pool,
        tqdm(total=len(paths), desc=f"decoding {label}", unit="img", disable=not progress, leave=False) as bar,
    ):
        for error in pool.map(lambda path: _decode_error(path, height, width), paths):
            if error is not None:
                failures.append(error)
            bar.update(1)
    return failures


def _decode_error(path: Path, height: int, width: int) -> DatasetError | None:
    try:
        decode_image(path, height, width)
    except DatasetError as error:
        return error
    return None
