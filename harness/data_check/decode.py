"""Decode every image file of a tree once, as the image cache would, and list the ones that fail or that decode to
a constant picture.

The readers only look at a file's first bytes; a truncated download or a damaged file passes them and would
fail deep inside the first training epoch. Decoding everything up front names all such files at once. A picture
of one colour is decodable yet carries nothing: a blank file, or a pixel format read wrongly (16-bit thermal
images read by clipping come out all white), so each is named too.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from tqdm import tqdm

from mmm.data.errors import DatasetError
from mmm.data.image_store import decode_image

# Decoding releases the GIL inside PIL, so a few threads keep the cores busy; more only add memory.
MAX_WORKERS = 4


@dataclass
class Decoded:
    """What decoding every image of a tree found, in path order."""

    unreadable: list[DatasetError] = field(default_factory=list)
    constant: list[DatasetError] = field(default_factory=list)


def decode_all(paths: Sequence[Path], height: int, width: int, label: str, progress: bool) -> Decoded:
    """Decode (and resize to height × width) every path; the ones that fail and the ones of a single colour."""
    workers = max(1, min(MAX_WORKERS, os.cpu_count() or 1))
    found = Decoded()
    with (
        ThreadPoolExecutor(max_workers=workers) as pool,
        tqdm(total=len(paths), desc=f"decoding {label}", unit="img", disable=not progress, leave=False) as bar,
    ):
        for outcome in pool.map(lambda path: _decode(path, height, width), paths):
            if outcome is not None:
                kind, error = outcome
                (found.unreadable if kind == "unreadable" else found.constant).append(error)
            bar.update(1)
    return found


def _decode(path: Path, height: int, width: int) -> tuple[str, DatasetError] | None:
    try:
        image = decode_image(path, height, width)
    except DatasetError as error:
        return "unreadable", error
    if (image == image[0, 0]).all():
        return "constant", DatasetError(
            path, f"decodes to one colour (every pixel {tuple(int(v) for v in image[0, 0])}): blank or read wrongly"
        )
    return None
