"""Image records shared by every dataset reader.

Training images carry no identity: the identities of the training split sit in a separate GroundTruth object,
which only diagnostics (ARI, matching accuracy) may read. Test images (query and gallery) carry their identity,
since evaluation needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

import numpy as np


class Modality(IntEnum):
    """Which stem an image goes through."""

    VISIBLE = 0
    INFRARED = 1


@dataclass(frozen=True)
class ImageRecord:
    """A labelled test image (query or gallery)."""

    path: Path
    pid: int
    camid: int
    modality: Modality


@dataclass(frozen=True)
class TrainImage:
    """An unlabelled training image: what training code is allowed to see."""

    path: Path
    camid: int
    modality: Modality


@dataclass(frozen=True)
class GroundTruth:
    """Identities of the training images, aligned with TrainSplit.images. For diagnostics only."""

    pids: np.ndarray

    def __post_init__(self) -> None:
        if self.pids.ndim != 1:
            raise ValueError(f"GroundTruth.pids must be 1-D, got shape {self.pids.shape}")


@dataclass(frozen=True)
class TrainSplit:
    """Training images and, kept apart, their identities (never passed to training code)."""

    images: tuple[TrainImage, ...]
    ground_truth: GroundTruth

    def __post_init__(self) -> None:
        if len(self.images) != len(self.ground_truth.pids):
            raise ValueError(f"TrainSplit has {len(self.images)} images but {len(self.ground_truth.pids)} identities")

    def indices(self, modality: Modality) -> np.ndarray:
        """Row indices of the images of one modality, in split order."""
        return np.array([i for i, im in enumerate(self.images) if im.modality == modality], dtype=np.int64)
