"""What one pipeline run trains on and is evaluated on: SYSU-MM01 (one split, 10 gallery draws) or one RegDB trial.

A Task hands training code only the unlabelled training images; its evaluate function runs the dataset's
protocols on a featurizer.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from mmm.choices import SYSU_MODES, DatasetName
from mmm.data.datasets import RegdbDataset, SysuDataset
from mmm.data.records import ImageRecord, Modality, TrainSplit
from mmm.evaluation.protocols import ProtocolResult, run_regdb_protocol, run_sysu_protocol

Featurize = Callable[[Sequence[ImageRecord], Modality], np.ndarray]
Evaluate = Callable[[Featurize], dict[str, ProtocolResult]]


@dataclass(frozen=True)
class Task:
    name: str  # "sysu" or "regdb-trial<k>"
    dataset: DatasetName  # which dataset's constants apply
    train: TrainSplit  # unlabelled training images (ground truth kept apart inside)
    evaluate: Evaluate  # featurizer -> {protocol: mean over evaluation trials and each trial's metrics, in %}
    fingerprint: str  # hash of the training and test image lists: part of every stage-cache key


def _fingerprint(*groups: Sequence[object]) -> str:
    digest = hashlib.sha256()
    for group in groups:
        for item in group:
            digest.update(repr(item).encode())
        digest.update(b"|")
    return digest.hexdigest()[:16]


def sysu_task(dataset: SysuDataset, eval_trials: int = 10) -> Task:
    """SYSU-MM01: train on train ∪ val; evaluate all-search and indoor, averaged over `eval_trials` draws."""
    trials = range(eval_trials)

    def evaluate(featurize: Featurize) -> dict[str, ProtocolResult]:
        return {mode: run_sysu_protocol(featurize, dataset, mode, trials=trials) for mode in SYSU_MODES}

    images = [(str(im.path), im.camid) for im in dataset.train.images]
    tests = [(str(r.path), r.pid, r.camid) for r in dataset.query + dataset.gallery_pool]
    return Task("sysu", "sysu", dataset.train, evaluate, _fingerprint(images, tests, [eval_trials]))


def regdb_task(dataset: RegdbDataset, trial: int) -> Task:
    """One RegDB trial: train on its training split; evaluate visible->infrared and infrared->visible."""
    if trial not in dataset.trials:
        raise ValueError(f"RegDB trial {trial} not loaded; available: {sorted(dataset.trials)}")
    split = dataset.trials[trial]
    single = RegdbDataset(dataset.root, {trial: split})

    def evaluate(featurize: Featurize) -> dict[str, ProtocolResult]:
        return {
            direction: run_regdb_protocol(lambda _t: featurize, single, direction, trials=[trial])
            for direction in ("v2i", "i2v")
        }

    images = [(str(im.path), im.camid) for im in split.train.images]
    tests = [(str(r.path), r.pid) for r in split.test_visible + split.test_thermal]
    return Task(f"regdb-trial{trial}", "regdb", split.train, evaluate, _fingerprint(images, tests, [trial]))


def protocol_means(evaluation: dict[str, ProtocolResult]) -> dict[str, dict[str, float]]:
    """{protocol: {metric: mean over the evaluation trials}}: what a run reports."""
    return {protocol: result.metrics for protocol, result in evaluation.items()}


def protocol_trials(evaluation: dict[str, ProtocolResult]) -> dict[str, dict[int, dict[str, float]]]:
    """{protocol: {trial: {metric: value}}}: the values behind each mean (SYSU gallery draws, the RegDB trial)."""
    return {protocol: result.per_trial for protocol, result in evaluation.items()}
