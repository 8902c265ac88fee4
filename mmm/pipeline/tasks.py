"""What one pipeline run trains on and is evaluated on: SYSU-MM01 (one split, 10 gallery draws) or one RegDB trial,
scored on its test set, or (tuning searches) on its validation split: trained without the held-out identities and
scored on them alone, under protocol names that say so ("val-all", "val-v2i", "val-i2v").

A Task hands training code only the unlabelled training images; its evaluate function runs the dataset's
protocols on a featurizer. A test task also keeps the features of a fixed subset of its test identities
(mmm.evaluation.feature_space): assess does both, and every method's final evaluation goes through it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from mmm.choices import REGDB_DIRECTIONS, SYSU_MODES, VALIDATION_PREFIX, DatasetName
from mmm.data.datasets import RegdbDataset, RegdbTrial, SysuDataset
from mmm.data.records import ImageRecord, Modality, TrainSplit
from mmm.data.validation import ValidationSplit
from mmm.evaluation.feature_space import FeatureSample, feature_subset, sample_features
from mmm.evaluation.protocols import ProtocolResult, run_regdb_protocol, run_sysu_protocol

Featurize = Callable[[Sequence[ImageRecord], Modality], np.ndarray]
Evaluate = Callable[[Featurize], dict[str, ProtocolResult]]
KeepFeatures = Callable[[Featurize], FeatureSample]


@dataclass(frozen=True)
class Task:
    name: str  # "sysu" or "regdb-trial<k>"
    dataset: DatasetName  # which dataset's constants apply
    train: TrainSplit  # unlabelled training images (ground truth kept apart inside)
    evaluate: Evaluate  # featurizer -> {protocol: mean over evaluation trials and each trial's metrics, in %}
    fingerprint: str  # hash of the training and evaluated image lists: part of every stage-cache key
    held_out: tuple[int, ...] = ()  # validation tasks: the identities held out of training and scored
    rule: str = ""  # validation tasks: how they were chosen, in words
    keep_features: KeepFeatures | None = None  # test tasks: the features of the fixed test subset


@dataclass(frozen=True)
class Assessment:
    """A final evaluation: the protocols' means and per-trial values (in %), and the kept feature sample (None for
    a task that keeps none)."""

    metrics: dict[str, dict[str, float]]
    trial_metrics: dict[str, dict[int, dict[str, float]]]
    features: FeatureSample | None


def assess(task: Task, featurize: Featurize) -> Assessment:
    """The task's evaluation of `featurize` and its feature sample: what every method ends with."""
    evaluation = task.evaluate(featurize)
    features = task.keep_features(featurize) if task.keep_features is not None else None
    return Assessment(protocol_means(evaluation), protocol_trials(evaluation), features)


def _keeper(visible: Sequence[ImageRecord], infrared: Sequence[ImageRecord]) -> KeepFeatures:
    subset = feature_subset(visible, infrared)

    def keep(featurize: Featurize) -> FeatureSample:
        return sample_features(featurize, subset)

    return keep


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
    fingerprint = _fingerprint(images, tests, [eval_trials])
    keep = _keeper(dataset.gallery_pool, dataset.query)
    return Task("sysu", "sysu", dataset.train, evaluate, fingerprint, keep_features=keep)


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
    fingerprint = _fingerprint(images, tests, [trial])
    keep = _keeper(split.test_visible, split.test_thermal)
    return Task(f"regdb-trial{trial}", "regdb", split.train, evaluate, fingerprint, keep_features=keep)


def sysu_validation_task(dataset: SysuDataset, eval_trials: int = 10) -> Task:
    """SYSU-MM01's validation task: train on the train ids alone; score the val ids in the all-search shape (their
    infrared images query single-shot visible gallery draws from cameras 1, 2, 4 and 5, `eval_trials` draws
    averaged, the cam-3/cam-2 rule kept) as protocol "val-all"."""
    split = _checked(dataset.validation, "sysu")
    view = SysuDataset(dataset.root, split.train, query=split.infrared, gallery_pool=split.visible)
    trials = range(eval_trials)

    def evaluate(featurize: Featurize) -> dict[str, ProtocolResult]:
        return {f"{VALIDATION_PREFIX}all": run_sysu_protocol(featurize, view, "all", trials=trials)}

    images = [(str(im.path), im.camid) for im in split.train.images]
    scored = [(str(r.path), r.pid, r.camid) for r in split.infrared + split.visible]
    fingerprint = _fingerprint(["validation", split.rule], images, scored, [eval_trials])
    return Task("sysu-validation", "sysu", split.train, evaluate, fingerprint, split.ids, split.rule)


def regdb_validation_task(dataset: RegdbDataset, trial: int) -> Task:
    """One RegDB trial's validation task: train on its training identities less the held-out fifth; score those in
    both directions as protocols "val-v2i" and "val-i2v"."""
    if trial not in dataset.trials:
        raise ValueError(f"RegDB trial {trial} not loaded; available: {sorted(dataset.trials)}")
    split = _checked(dataset.trials[trial].validation, f"regdb trial {trial}")
    view = RegdbDataset(dataset.root, {trial: RegdbTrial(trial, split.train, split.visible, split.infrared)})

    def evaluate(featurize: Featurize) -> dict[str, ProtocolResult]:
        return {
            f"{VALIDATION_PREFIX}{direction}": run_regdb_protocol(lambda _t: featurize, view, direction, trials=[trial])
            for direction in REGDB_DIRECTIONS
        }

    images = [(str(im.path), im.camid) for im in split.train.images]
    scored = [(str(r.path), r.pid) for r in split.visible + split.infrared]
    fingerprint = _fingerprint(["validation", split.rule], images, scored, [trial])
    return Task(f"regdb-trial{trial}-validation", "regdb", split.train, evaluate, fingerprint, split.ids, split.rule)


def _checked(split: ValidationSplit | None, where: str) -> ValidationSplit:
    """The split, when a search can train on it and score it: images of both modalities on both sides."""
    if split is None:
        raise ValueError(f"{where} has no validation split (too few training identities to hold some out)")
    for modality in Modality:
        if not any(image.modality == modality for image in split.train.images):
            raise ValueError(f"{split.rule}: what is left for training has no {modality.name.lower()} image")
    for records, side in ((split.visible, "visible"), (split.infrared, "infrared")):
        if not records:
            raise ValueError(f"{split.rule}: the held-out identities have no {side} image to score")
    return split


def protocol_means(evaluation: dict[str, ProtocolResult]) -> dict[str, dict[str, float]]:
    """{protocol: {metric: mean over the evaluation trials}}: what a run reports."""
    return {protocol: result.metrics for protocol, result in evaluation.items()}


def protocol_trials(evaluation: dict[str, ProtocolResult]) -> dict[str, dict[int, dict[str, float]]]:
    """{protocol: {trial: {metric: value}}}: the values behind each mean (SYSU gallery draws, the RegDB trial)."""
    return {protocol: result.per_trial for protocol, result in evaluation.items()}
