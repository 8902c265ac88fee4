"""The ground-truth CSV written beside each synthetic tree: identity and view of every image (diagnostics only).

One row per image: path relative to the tree root (POSIX separators), identity (the folder id), view (front,
back or side), camera number and modality. Training code must never read it; diagnostics such as "did the visible
front-view cluster match the infrared back-view cluster" may.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from mmm.data.errors import DatasetError

GROUND_TRUTH_FILE = "ground_truth.csv"
_COLUMNS = ("path", "identity", "view", "camera", "modality")


@dataclass(frozen=True)
class GroundTruthRow:
    """Identity and capture facts of one synthetic image."""

    path: str  # relative to the tree root, POSIX separators
    identity: int
    view: str
    camera: int
    modality: str  # "visible" or "infrared"


def write_ground_truth(root: Path, rows: list[GroundTruthRow]) -> Path:
    """Write root/ground_truth.csv and return its path."""
    target = root / GROUND_TRUTH_FILE
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(_COLUMNS)
        writer.writerows((r.path, r.identity, r.view, r.camera, r.modality) for r in rows)
    return target


def read_ground_truth(root: Path) -> tuple[GroundTruthRow, ...]:
    """Read back root/ground_truth.csv of a synthetic tree (SYSU- or RegDB-shaped)."""
    source = Path(root) / GROUND_TRUTH_FILE
    if not source.is_file():
        raise DatasetError(source, "missing ground-truth file; only synthetic trees have one")
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != _COLUMNS:
            raise DatasetError(source, f"header is {reader.fieldnames}; expected {list(_COLUMNS)}")
        return tuple(
            GroundTruthRow(
                path=row["path"],
                identity=int(row["identity"]),
                view=row["view"],
                camera=int(row["camera"]),
                modality=row["modality"],
            )
            for row in reader
        )


def ground_truth_by_path(root: Path) -> dict[Path, GroundTruthRow]:
    """The ground truth of a synthetic tree keyed by root / relative path, the paths the readers return."""
    root = Path(root)
    return {root / row.path: row for row in read_ground_truth(root)}
