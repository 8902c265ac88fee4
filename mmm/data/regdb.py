"""Reader of the RegDB folder layout (real data or the synthetic stand-in).

Layout: root/Visible/…bmp, root/Thermal/…bmp and root/idx/{train,test}_{visible,thermal}_{k}.txt for trials
k = 1..10, each line "relative/path label" with the path relative to root. Every trial is its own split: the
training labels become the (diagnostics-only) ground truth, the test labels the identities of the test images.
Each trial also holds out a seeded fifth of its training identities as its validation split (mmm.data.validation),
for tuning searches only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmm.data.datasets import REGDB_THERMAL_CAM, REGDB_TRIALS, REGDB_VISIBLE_CAM, RegdbDataset, RegdbTrial
from mmm.data.errors import DatasetError
from mmm.data.image_magic import check_image_file
from mmm.data.records import GroundTruth, ImageRecord, Modality, TrainImage, TrainSplit
from mmm.data.tree import walk_tree
from mmm.data.validation import REGDB_MIN_HELD_OUT, ValidationSplit, regdb_held_out_ids, regdb_rule

logger = logging.getLogger(__name__)

_CAMERA = {Modality.VISIBLE: REGDB_VISIBLE_CAM, Modality.INFRARED: REGDB_THERMAL_CAM}
_FILE_WORD = {Modality.VISIBLE: "visible", Modality.INFRARED: "thermal"}


@dataclass(frozen=True)
class IndexEntry:
    """One line of an idx/ file, resolved against the dataset root."""

    path: Path
    label: int


def idx_file(root: Path, part: str, modality: Modality, trial: int) -> Path:
    """Path of one idx/ list, e.g. idx/train_visible_3.txt (part is "train" or "test")."""
    return root / "idx" / f"{part}_{_FILE_WORD[modality]}_{trial}.txt"


def read_index(root: Path, list_file: Path, checked: set[Path]) -> tuple[IndexEntry, ...]:
    """Parse one idx/ list and check that every listed image is readable.

    checked holds images already verified, since the same image appears in the lists of all ten trials.
    """
    if not list_file.is_file():
        raise DatasetError(list_file, "missing index file; expected lines 'relative/path label'")
    entries: list[IndexEntry] = []
    for number, line in enumerate(list_file.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.rsplit(maxsplit=1)
        try:
            rel_path, label = parts[0], int(parts[1])
        except (IndexError, ValueError):
            raise DatasetError(
                list_file, f"line {number} is {line.strip()!r}; expected 'relative/path label' with an integer label"
            ) from None
        path = root / rel_path
        if path not in checked:
            try:
                check_image_file(path)
            except DatasetError as exc:
                raise DatasetError(list_file, f"line {number}: {exc.path}: {exc.problem}") from None
            checked.add(path)
        entries.append(IndexEntry(path=path, label=label))
    if not entries:
        raise DatasetError(list_file, "index file lists no images; expected lines 'relative/path label'")
    return tuple(entries)


def _test_records(entries: tuple[IndexEntry, ...], modality: Modality) -> tuple[ImageRecord, ...]:
    return tuple(ImageRecord(entry.path, entry.label, _CAMERA[modality], modality) for entry in entries)


def _train_split(entries: list[tuple[IndexEntry, Modality]]) -> TrainSplit:
    return TrainSplit(
        images=tuple(TrainImage(entry.path, _CAMERA[modality], modality) for entry, modality in entries),
        ground_truth=GroundTruth(np.asarray([entry.label for entry, _ in entries], dtype=np.int64)),
    )


def _validation_split(trial: int, entries: list[tuple[IndexEntry, Modality]]) -> ValidationSplit | None:
    """The trial's training split with a seeded fifth of its identities held out (labelled, to be scored); None
    when it has too few identities to hold any out and still train."""
    labels = sorted({entry.label for entry, _ in entries})
    if len(labels) <= REGDB_MIN_HELD_OUT:
        return None
    held_out = regdb_held_out_ids(labels, trial)
    kept = [(entry, modality) for entry, modality in entries if entry.label not in held_out]
    scored = [(entry, modality) for entry, modality in entries if entry.label in held_out]
    return ValidationSplit(
        train=_train_split(kept),
        visible=_test_records(tuple(e for e, m in scored if m is Modality.VISIBLE), Modality.VISIBLE),
        infrared=_test_records(tuple(e for e, m in scored if m is Modality.INFRARED), Modality.INFRARED),
        ids=held_out,
        rule=regdb_rule(trial, len(held_out), len(labels)),
    )


def _read_trial(root: Path, trial: int, checked: set[Path]) -> RegdbTrial:
    lists = {
        (part, modality): read_index(root, idx_file(root, part, modality, trial), checked)
        for part in ("train", "test")
        for modality in Modality
    }
    train_entries = [(entry, modality) for modality in Modality for entry in lists[("train", modality)]]
    return RegdbTrial(
        trial=trial,
        train=_train_split(train_entries),
        test_visible=_test_records(lists[("test", Modality.VISIBLE)], Modality.VISIBLE),
        test_thermal=_test_records(lists[("test", Modality.INFRARED)], Modality.INFRARED),
        validation=_validation_split(trial, train_entries),
    )


def read_regdb(root: Path, trials: Sequence[int] = REGDB_TRIALS) -> RegdbDataset:
    """Read the given RegDB trials; raise DatasetError naming the file (and line) of any problem."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(root, "dataset root does not exist; expected a RegDB folder with Visible/, Thermal/, idx/")
    if not trials:
        raise ValueError("read_regdb needs at least one trial number")
    # The same walk as the data check and the fingerprint: a broken link anywhere stops the reader with its line.
    walk_tree(root)
    checked: set[Path] = set()
    read = {trial: _read_trial(root, trial, checked) for trial in trials}
    logger.info("RegDB at %s: trials %s, %d distinct images", root, sorted(read), len(checked))
    return RegdbDataset(root=root, trials=read)
