"""Datasets: records, readers of the real SYSU-MM01 and RegDB layouts, synthetic stand-ins, image caches.

Exports are imported on first use (mmm.lazy): the harness reads the dataset constants and records without
loading the readers and the synthetic generator.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmm.lazy import lazy_exports

if TYPE_CHECKING:
    from mmm.data.datasets import REGDB_TRIALS, RegdbDataset, RegdbTrial, SysuDataset
    from mmm.data.errors import DatasetError
    from mmm.data.image_store import load_images
    from mmm.data.records import GroundTruth, ImageRecord, Modality, TrainImage, TrainSplit
    from mmm.data.regdb import read_regdb
    from mmm.data.synthetic import SyntheticSpec, ensure_synthetic_pair, smoke_spec
    from mmm.data.sysu import read_sysu
    from mmm.data.validation import ValidationSplit

__all__ = [
    "REGDB_TRIALS",
    "DatasetError",
    "GroundTruth",
    "ImageRecord",
    "Modality",
    "RegdbDataset",
    "RegdbTrial",
    "SyntheticSpec",
    "SysuDataset",
    "TrainImage",
    "TrainSplit",
    "ValidationSplit",
    "ensure_synthetic_pair",
    "load_images",
    "read_regdb",
    "read_sysu",
    "smoke_spec",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    __all__,
    (
        "mmm.data.records",
        "mmm.data.errors",
        "mmm.data.datasets",
        "mmm.data.sysu",
        "mmm.data.regdb",
        "mmm.data.image_store",
        "mmm.data.synthetic",
        "mmm.data.validation",
    ),
)
