"""The feature space a run ends with, kept small enough to draw: the evaluation's own features (flip-averaged,
L2-normalised) of a fixed, seeded subset of the test identities, with each row's identity, modality and camera.

The subset depends only on the test split and a fixed seed, never on a run's training seed, so every run on the
same test split (every variant and seed of a study, the floor and the ceiling) keeps the same images. The distances
are the evaluation's cosine distance (mmm.evaluation.protocols), grouped the way the modality gap is argued about:
same identity within a modality, same identity across modalities, different identities across modalities.

A sample travels as npz bytes (float16 features: a paper-scale sample of 20 identities x 2 modalities x 12 images x
2048 dimensions is about 2 MB); its distances are computed from the stored values, so a sample read back gives the
numbers the run recorded. A file is read only together with the sha256 its run recorded: a file belongs to the run
that wrote it.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from mmm.choices import (
    CROSS_NEGATIVE,
    CROSS_POSITIVE,
    CROSS_SEPARATION,
    DISTANCE_GROUPS,
    INTRA_POSITIVE,
    MODALITY_GAP,
)
from mmm.data.records import ImageRecord, Modality
from mmm.evaluation.protocols import cosine_distance

Featurize = Callable[[Sequence[ImageRecord], Modality], np.ndarray]

SUBSET_IDENTITIES = 20  # identities kept (fewer when the test split has fewer with both modalities)
IMAGES_PER_MODALITY = 12  # per identity and modality, at most
SUBSET_SEED = 0  # fixed: the subset is a property of the test split, not of a run
FORMAT = 1  # the npz layout below; a file of another format is not read

_ARRAYS = ("format", "features", "pids", "modalities", "camids")
_MEMBER_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest a zip member can carry


@dataclass(frozen=True)
class FeatureSubset:
    """The test images whose features a run keeps: per chosen identity, up to IMAGES_PER_MODALITY of each modality."""

    identities: tuple[int, ...]
    visible: tuple[ImageRecord, ...]
    infrared: tuple[ImageRecord, ...]


def feature_subset(
    visible: Sequence[ImageRecord],
    infrared: Sequence[ImageRecord],
    identities: int = SUBSET_IDENTITIES,
    per_modality: int = IMAGES_PER_MODALITY,
    seed: int = SUBSET_SEED,
) -> FeatureSubset:
    """A seeded choice among the identities present in both modalities, then of each one's images per modality
    (files in path order before the draw, so the choice does not depend on the order a reader lists them)."""
    if identities < 1 or per_modality < 1:
        raise ValueError(f"a feature subset needs identities and per_modality >= 1, got {identities}, {per_modality}")
    by_modality = {Modality.VISIBLE: _by_identity(visible), Modality.INFRARED: _by_identity(infrared)}
    both = sorted(set(by_modality[Modality.VISIBLE]) & set(by_modality[Modality.INFRARED]))
    if not both:
        raise ValueError("no test identity has images of both modalities: nothing to keep")
    rng = np.random.default_rng(seed)
    chosen = sorted(int(pid) for pid in rng.choice(both, size=min(identities, len(both)), replace=False))
    kept: dict[Modality, list[ImageRecord]] = {Modality.VISIBLE: [], Modality.INFRARED: []}
    for pid in chosen:
        for modality in (Modality.VISIBLE, Modality.INFRARED):
            files = sorted(by_modality[modality][pid], key=lambda record: str(record.path))
            rows = np.sort(rng.choice(len(files), size=min(per_modality, len(files)), replace=False))
            kept[modality] += [files[row] for row in rows]
    return FeatureSubset(tuple(chosen), tuple(kept[Modality.VISIBLE]), tuple(kept[Modality.INFRARED]))


def _by_identity(records: Sequence[ImageRecord]) -> dict[int, list[ImageRecord]]:
    grouped: dict[int, list[ImageRecord]] = {}
    for record in records:
        grouped.setdefault(record.pid, []).append(record)
    return grouped


@dataclass(frozen=True)
class FeatureSample:
    """Features of a subset's images (float16, rows L2-normalised before rounding), visible rows first, with each
    row's identity, modality (Modality values) and camera."""

    features: np.ndarray
    pids: np.ndarray
    modalities: np.ndarray
    camids: np.ndarray

    def __post_init__(self) -> None:
        rows = self.features.shape[0] if self.features.ndim == 2 else -1
        if rows < 1 or any(column.shape != (rows,) for column in (self.pids, self.modalities, self.camids)):
            raise ValueError(
                f"a feature sample needs features of shape (N, D), N >= 1, and N identities, modalities and cameras; "
                f"got {self.features.shape}, {self.pids.shape}, {self.modalities.shape}, {self.camids.shape}"
            )
        if not set(np.unique(self.modalities)) <= {int(m) for m in Modality}:
            raise ValueError(f"modalities must be {[int(m) for m in Modality]}, got {sorted(set(self.modalities))}")
        if not np.isfinite(self.features).all():
            raise ValueError("a feature sample has non-finite features")

    @property
    def identities(self) -> int:
        return len(np.unique(self.pids))


def sample_features(featurize: Featurize, subset: FeatureSubset) -> FeatureSample:
    """The subset's features through `featurize` (the evaluation's own featurizer), each modality through its stem."""
    parts = [
        (np.asarray(featurize(records, modality), dtype=np.float64), records, modality)
        for modality, records in ((Modality.VISIBLE, subset.visible), (Modality.INFRARED, subset.infrared))
    ]
    features = np.concatenate([values for values, _, _ in parts])
    features /= np.maximum(np.linalg.norm(features, axis=1, keepdims=True), 1e-12)
    records = [record for _, rows, _ in parts for record in rows]
    return FeatureSample(
        features=features.astype(np.float16),
        pids=np.array([r.pid for r in records], dtype=np.int64),
        modalities=np.array([int(m) for _, rows, m in parts for _ in rows], dtype=np.int8),
        camids=np.array([r.camid for r in records], dtype=np.int16),
    )


def distance_groups(sample: FeatureSample) -> dict[str, np.ndarray]:
    """The cosine distances of the sample's pairs in each of DISTANCE_GROUPS (each unordered pair once)."""
    features = sample.features.astype(np.float64)
    distance = cosine_distance(features, features)
    same_identity = sample.pids[:, None] == sample.pids[None, :]
    same_modality = sample.modalities[:, None] == sample.modalities[None, :]
    # Within a modality a pair appears twice and a row meets itself: keep the upper triangle. Across modalities
    # keep visible rows against infrared ones, each pair once.
    upper = np.triu(np.ones_like(same_identity), k=1)
    visible_to_infrared = (sample.modalities[:, None] == Modality.VISIBLE) & (
        sample.modalities[None, :] == Modality.INFRARED
    )
    return {
        INTRA_POSITIVE: distance[same_identity & same_modality & upper],
        CROSS_POSITIVE: distance[same_identity & visible_to_infrared],
        CROSS_NEGATIVE: distance[~same_identity & visible_to_infrared],
    }


def cross_separation(positive: np.ndarray, negative: np.ndarray) -> float:
    """The chance that a different-identity cross-modality distance exceeds a same-identity one, ties counting
    half (the AUC of telling the two apart by distance; 0.5: not at all). NaN when either group is empty."""
    if not len(positive) or not len(negative):
        return float("nan")
    ordered = np.sort(np.asarray(negative, dtype=np.float64))
    values = np.asarray(positive, dtype=np.float64)
    at_or_below = np.searchsorted(ordered, values, side="right")
    ties = at_or_below - np.searchsorted(ordered, values, side="left")
    return float(((len(ordered) - at_or_below) + 0.5 * ties).sum() / (len(values) * len(ordered)))


def gap_summary(groups: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Each group's mean distance; the modality gap, the cross- over the intra-modality positive mean (1: a
    person's features are as close across modalities as within one); and the cross-modality separation. The gap
    also falls when a modality's own positives spread out (an untrained network packs every distance into a narrow
    range and scores a small gap), so the separation is the measure of cross-modality matching. NaN where a group
    is empty."""
    means = {name: float(np.mean(groups[name])) if len(groups[name]) else float("nan") for name in DISTANCE_GROUPS}
    intra = means[INTRA_POSITIVE]
    gap = means[CROSS_POSITIVE] / intra if intra > 0 else float("nan")
    separation = cross_separation(groups[CROSS_POSITIVE], groups[CROSS_NEGATIVE])
    return {**means, MODALITY_GAP: gap, CROSS_SEPARATION: separation}


def sample_bytes(sample: FeatureSample) -> bytes:
    """The sample as npz bytes (what a run's feature file holds): the same sample always gives the same bytes, so a
    sample written again (a reference served from its record) keeps its sha256."""
    arrays = {
        "format": np.int64(FORMAT),
        "features": sample.features,
        "pids": sample.pids,
        "modalities": sample.modalities,
        "camids": sample.camids,
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asanyarray(array), allow_pickle=False)
            # np.savez stamps each member with the current time; a fixed stamp keeps the bytes a function of the data.
            archive.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=_MEMBER_TIME), member.getvalue())
    return buffer.getvalue()


def sample_from_bytes(data: bytes) -> FeatureSample:
    """A sample from npz bytes; ValueError saying what is wrong when they are not one."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except (OSError, ValueError, TypeError, zipfile.BadZipFile, EOFError) as error:
        # A bare .npy is an array, not an archive (TypeError); bytes that are neither fail to load at all.
        raise ValueError(f"not an npz file ({error})") from None
    missing = [name for name in _ARRAYS if name not in arrays]
    if missing:
        raise ValueError(f"not a feature sample: no {missing}")
    if int(arrays["format"]) != FORMAT:
        raise ValueError(f"feature sample format {int(arrays['format'])}; this code reads format {FORMAT}")
    return FeatureSample(
        features=arrays["features"].astype(np.float16),
        pids=arrays["pids"].astype(np.int64),
        modalities=arrays["modalities"].astype(np.int8),
        camids=arrays["camids"].astype(np.int16),
    )


class FeatureFileError(ValueError):
    """A run's feature file cannot be served: missing, not the file its run wrote, or unreadable."""


def read_sample_file(path: Path, sha256: str, name: str) -> FeatureSample:
    """The sample in `path` when its bytes hash to `sha256` (what the run that wrote it recorded); FeatureFileError
    says, naming the file as `name`, why it cannot be served."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise FeatureFileError(f"{name} is missing") from None
    except OSError as error:
        raise FeatureFileError(f"{name} cannot be read ({error.strerror or error})") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise FeatureFileError(f"{name} is not the file its run wrote (its sha256 differs)")
    try:
        return sample_from_bytes(data)
    except ValueError as error:
        raise FeatureFileError(f"{name} is unreadable ({error})") from None
