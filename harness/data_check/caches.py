"""Build the decoded-image caches a study will read, before it starts, so its first epoch does not pay for them.

The caches are keyed by the exact image lists the pipeline asks for, so they are built through the pipeline's
own code: the training images of each task, then the task's evaluation run with a featurizer that only loads
the images it is handed (its scores are thrown away).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Sequence

import numpy as np

from harness.data_check.counts import Dataset
from mmm.data.datasets import SysuDataset
from mmm.data.image_store import load_images
from mmm.data.records import ImageRecord, Modality
from mmm.pipeline.profiles import profile_config
from mmm.pipeline.tasks import Task, regdb_task, sysu_task
from mmm.pipeline.training_images import TrainingImages

logger = logging.getLogger(__name__)


def warm_caches(name: str, dataset: Dataset, profile: str, cache_dir: Path, regdb_trials: Sequence[int]) -> list[str]:
    """Build (or verify) every cache the tasks of `dataset` read under `profile`; returns the task names."""
    config = profile_config(profile, name)
    if isinstance(dataset, SysuDataset):
        tasks = [sysu_task(dataset, eval_trials=config.eval_trials)]
    else:
        tasks = [regdb_task(dataset, trial) for trial in regdb_trials if trial in dataset.trials]
    for task in tasks:
        logger.info("caching the images of %s at %dx%d", task.name, config.height, config.width)
        _warm_task(task, config.height, config.width, cache_dir)
    return [task.name for task in tasks]


def _warm_task(task: Task, height: int, width: int, cache_dir: Path) -> None:
    TrainingImages.load(task.train, height, width, cache_dir)

    def load_only(records: Sequence[ImageRecord], modality: Modality) -> np.ndarray:
        load_images([record.path for record in records], height, width, cache_dir)
        # Any non-zero features let the protocol run to its end; its numbers are discarded.
        return np.ones((len(records), 1), dtype=np.float32)

    task.evaluate(load_only)
