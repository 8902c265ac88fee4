"""What a dataset tree holds: identities and images per split, camera and modality, counted from what the
readers return, and the tolerant reading that lets the check go on past a broken part.

Training identities come through the door of mmm.diagnostics.identities: the check is a harness diagnostic that
counts them and hands nothing to training.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence, Union

from mmm.data.datasets import SYSU_INFRARED_CAMS, SYSU_VISIBLE_CAMS, RegdbDataset, RegdbTrial, SysuDataset
from mmm.data.errors import DatasetError
from mmm.data.records import Modality
from mmm.data.regdb import read_regdb
from mmm.data.sysu import read_sysu
from mmm.diagnostics.identities import training_identities
from mmm.evaluation.protocols import sysu_gallery

# (scope, quantity), e.g. ("train", "infrared images") or ("trial 3", "test identities").
CountKey = tuple[str, str]
Dataset = Union[SysuDataset, RegdbDataset]

# The gallery draw whose size the check reports (the protocol's first trial).
GALLERY_DRAW = 0
SYSU_CAMS = tuple(sorted(SYSU_VISIBLE_CAMS + SYSU_INFRARED_CAMS))
_SYSU_WORD = {Modality.VISIBLE: "visible", Modality.INFRARED: "infrared"}
_REGDB_WORD = {Modality.VISIBLE: "visible", Modality.INFRARED: "thermal"}
READABLE_TRIALS: CountKey = ("all trials", "readable trials")
GALLERY_ALL: CountKey = (f"gallery draw {GALLERY_DRAW}", "all-search images")
GALLERY_INDOOR: CountKey = (f"gallery draw {GALLERY_DRAW}", "indoor images")


@dataclass
class ReadOutcome:
    """A dataset as far as it could be read, and one line per part that could not be."""

    dataset: Dataset | None
    problems: list[str] = field(default_factory=list)


def read_for_check(name: str, root: Path, regdb_trials: Sequence[int]) -> ReadOutcome:
    """Read a dataset with its own reader; RegDB trial by trial, so one broken idx file leaves the others."""
    if name == "sysu":
        try:
            return ReadOutcome(read_sysu(root))
        except DatasetError as error:
            return ReadOutcome(None, [str(error)])
    trials: dict[int, RegdbTrial] = {}
    problems = []
    for trial in regdb_trials:
        try:
            trials.update(read_regdb(root, trials=[trial]).trials)
        except DatasetError as error:
            problems.append(f"trial {trial} not readable: {error}")
    return ReadOutcome(RegdbDataset(root=root, trials=trials) if trials else None, problems)


def dataset_counts(dataset: Dataset) -> dict[CountKey, int]:
    """The counts of a read dataset, in the order the check's table lists them."""
    if isinstance(dataset, SysuDataset):
        return sysu_counts(dataset)
    return regdb_counts(dataset)


def sysu_counts(dataset: SysuDataset) -> dict[CountKey, int]:
    train = dataset.train
    pids = training_identities(train).pids
    counts: dict[CountKey, int] = {("train", "identities"): len(set(pids.tolist()))}
    for modality, word in _SYSU_WORD.items():
        rows = train.indices(modality)
        counts[("train", f"identities with {word} images")] = len(set(pids[rows].tolist()))
        counts[("train", f"{word} images")] = len(rows)
    cameras = Counter(image.camid for image in train.images)
    counts.update({("train", f"cam{cam} images"): cameras[cam] for cam in SYSU_CAMS})

    query, pool = dataset.query, dataset.gallery_pool
    counts[("test", "identities")] = len({record.pid for record in query + pool})
    counts[("test", "identities with infrared images")] = len({record.pid for record in query})
    counts[("test", "identities with visible images")] = len({record.pid for record in pool})
    counts[("test", "infrared images (query)")] = len(query)
    counts[("test", "visible images (gallery pool)")] = len(pool)
    cameras = Counter(record.camid for record in query + pool)
    counts.update({("test", f"cam{cam} images"): cameras[cam] for cam in SYSU_CAMS})
    counts[GALLERY_ALL] = len(sysu_gallery(dataset, GALLERY_DRAW, "all"))
    counts[GALLERY_INDOOR] = len(sysu_gallery(dataset, GALLERY_DRAW, "indoor"))
    return counts


def regdb_counts(dataset: RegdbDataset) -> dict[CountKey, int]:
    counts: dict[CountKey, int] = {READABLE_TRIALS: len(dataset.trials)}
    for modality, word in _REGDB_WORD.items():
        paths = {
            image.path
            for trial in dataset.trials.values()
            for image in trial.train.images
            if image.modality == modality
        }
        tests = (
            trial.test_visible if modality == Modality.VISIBLE else trial.test_thermal
            for trial in dataset.trials.values()
        )
        paths.update(record.path for records in tests for record in records)
        counts[("all idx lists", f"distinct {word} images")] = len(paths)
    for number in sorted(dataset.trials):
        counts.update(regdb_trial_counts(dataset.trials[number]))
    return counts


def regdb_trial_counts(trial: RegdbTrial) -> dict[CountKey, int]:
    scope = f"trial {trial.trial}"
    train_pids = training_identities(trial.train).pids.tolist()
    train = list(zip(train_pids, (image.modality for image in trial.train.images)))
    test = [(record.pid, record.modality) for record in trial.test_visible + trial.test_thermal]
    counts: dict[CountKey, int] = {}
    for part, pairs in (("train", train), ("test", test)):
        counts[(scope, f"{part} identities")] = len({pid for pid, _ in pairs})
    counts[(scope, "identities (train + test)")] = (
        counts[(scope, "train identities")] + counts[(scope, "test identities")]
    )
    for part, pairs in (("train", train), ("test", test)):
        for modality, word in _REGDB_WORD.items():
            counts[(scope, f"{part} {word} images")] = sum(m == modality for _, m in pairs)
    per_identity = [count for pairs in (train, test) for count in _images_per_identity(pairs)]
    counts[(scope, "fewest images of an identity in one modality")] = min(per_identity, default=0)
    counts[(scope, "most images of an identity in one modality")] = max(per_identity, default=0)
    return counts


def _images_per_identity(pairs: list[tuple[int, Modality]]) -> list[int]:
    """Images of each identity in each modality, zero where an identity lacks one modality."""
    counts = Counter(pairs)
    return [counts[(pid, modality)] for pid in sorted({pid for pid, _ in pairs}) for modality in Modality]
