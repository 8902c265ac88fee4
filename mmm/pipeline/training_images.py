"""The training images of a task, decoded once into cached uint8 arrays per modality."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmm.data.image_store import load_images
from mmm.data.records import Modality, TrainSplit


@dataclass(frozen=True)
class TrainingImages:
    visible: np.ndarray  # [Nv, H, W, 3] uint8, rows in TrainSplit.indices(VISIBLE) order
    infrared: np.ndarray  # [Nr, H, W, 3] uint8, rows in TrainSplit.indices(INFRARED) order
    visible_cameras: np.ndarray  # [Nv] camera id of each visible row (metadata, not identity)
    infrared_cameras: np.ndarray  # [Nr] camera id of each infrared row

    @classmethod
    def load(cls, train: TrainSplit, height: int, width: int, cache_dir: Path) -> "TrainingImages":
        arrays, cameras = [], []
        for modality in (Modality.VISIBLE, Modality.INFRARED):
            rows = train.indices(modality)
            if not len(rows):
                raise ValueError(f"the training split has no {modality.name.lower()} image")
            arrays.append(load_images([train.images[i].path for i in rows], height, width, cache_dir))
            cameras.append(np.array([train.images[i].camid for i in rows], dtype=np.int64))
        return cls(*arrays, *cameras)

    def of(self, modality: Modality) -> np.ndarray:
        return self.visible if modality == Modality.VISIBLE else self.infrared

    def cameras(self) -> tuple[np.ndarray, np.ndarray]:
        """The camera of every visible and every infrared row."""
        return self.visible_cameras, self.infrared_cameras
