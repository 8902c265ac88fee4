"""Dataset containers returned by the readers: SYSU-MM01 (one split, gallery drawn per trial) and RegDB
(ten trials, each its own train/test split)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mmm.data.records import ImageRecord, TrainSplit
from mmm.data.validation import ValidationSplit

SYSU_VISIBLE_CAMS = (1, 2, 4, 5)
SYSU_INDOOR_CAMS = (1, 2)
SYSU_INFRARED_CAMS = (3, 6)
REGDB_VISIBLE_CAM = 1
REGDB_THERMAL_CAM = 2
REGDB_TRIALS = tuple(range(1, 11))


@dataclass(frozen=True)
class SysuDataset:
    """SYSU-MM01: train on train ∪ val ids; query = every infrared test image; the gallery is drawn per trial
    from gallery_pool (every visible test image) by the evaluation protocol."""

    root: Path
    train: TrainSplit
    query: tuple[ImageRecord, ...]
    gallery_pool: tuple[ImageRecord, ...]
    validation: ValidationSplit | None = None  # the exp/val_id.txt identities, held out (tuning only)


@dataclass(frozen=True)
class RegdbTrial:
    """One RegDB trial (1..10): its training split and its visible and thermal test images."""

    trial: int
    train: TrainSplit
    test_visible: tuple[ImageRecord, ...]
    test_thermal: tuple[ImageRecord, ...]
    validation: ValidationSplit | None = None  # a seeded fifth of the training identities, held out (tuning only)


@dataclass(frozen=True)
class RegdbDataset:
    """RegDB: one entry per trial read from idx/."""

    root: Path
    trials: dict[int, RegdbTrial]
