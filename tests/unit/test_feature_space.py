"""The kept feature sample: a seeded subset of the test identities that depends on the test split alone, the
evaluation's features of it, the three distance groups on the evaluation's cosine distance, the modality gap, and
the npz bytes a run's feature file holds."""

from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mmm.choices import CROSS_NEGATIVE, CROSS_POSITIVE, CROSS_SEPARATION, INTRA_POSITIVE, MODALITY_GAP
from mmm.data.records import ImageRecord, Modality
from mmm.evaluation.feature_space import (
    FeatureSample,
    cross_separation,
    distance_groups,
    feature_subset,
    gap_summary,
    sample_bytes,
    sample_features,
    sample_from_bytes,
)


def _records(pids: range, per_identity: int, modality: Modality, camid: int) -> list[ImageRecord]:
    return [
        ImageRecord(Path(f"{modality.name.lower()}/{pid:04d}/{n:03d}.jpg"), pid, camid, modality)
        for pid in pids
        for n in range(per_identity)
    ]


def test_the_subset_is_seeded_by_the_test_split_alone_and_capped_per_identity_and_modality() -> None:
    visible = _records(range(40), 15, Modality.VISIBLE, 1)
    infrared = _records(range(40), 6, Modality.INFRARED, 3)
    subset = feature_subset(visible, infrared)
    # The same split listed in another order gives the same images: nothing but the split and the fixed seed counts.
    again = feature_subset(list(reversed(visible)), infrared[::2] + infrared[1::2])
    assert subset == again
    assert len(subset.identities) == 20 and len(set(subset.identities)) == 20
    assert {r.pid for r in subset.visible} == {r.pid for r in subset.infrared} == set(subset.identities)
    assert len(subset.visible) == 20 * 12  # capped at 12 of the 15
    assert len(subset.infrared) == 20 * 6  # all 6 there are
    assert feature_subset(visible, infrared, seed=1) != subset


def test_the_subset_keeps_only_identities_seen_in_both_modalities_and_fewer_when_there_are_fewer() -> None:
    visible = _records(range(8), 3, Modality.VISIBLE, 1)
    infrared = _records(range(5, 12), 3, Modality.INFRARED, 3)
    subset = feature_subset(visible, infrared)
    assert subset.identities == (5, 6, 7)
    with pytest.raises(ValueError, match="both modalities"):
        feature_subset(visible[:3], infrared[-3:])


def _sample() -> FeatureSample:
    # Two identities, two images of each in each modality; identity 1's infrared images sit farther away.
    angle = {(0, 0): [0.0, 0.1], (0, 1): [0.3, 0.4], (1, 0): [2.0, 2.1], (1, 1): [2.6, 2.8]}
    rows, pids, modalities = [], [], []
    for modality in (0, 1):
        for pid in (0, 1):
            for value in angle[(pid, modality)]:
                rows.append([math.cos(value), math.sin(value)])
                pids.append(pid)
                modalities.append(modality)
    return FeatureSample(
        np.array(rows, dtype=np.float16),
        np.array(pids, dtype=np.int64),
        np.array(modalities, dtype=np.int8),
        np.array([1] * 4 + [3] * 4, dtype=np.int16),
    )


def test_distances_fall_into_the_three_groups_each_pair_once_on_the_cosine_distance() -> None:
    sample = _sample()
    groups = distance_groups(sample)
    assert len(groups[INTRA_POSITIVE]) == 4  # one pair per identity and modality
    assert len(groups[CROSS_POSITIVE]) == 8  # 2 x 2 per identity
    assert len(groups[CROSS_NEGATIVE]) == 8  # 2 x 2 per ordered pair of identities, visible side first
    features = sample.features.astype(np.float64)
    expected = 1.0 - float(features[0] @ features[4]) / float(np.linalg.norm(features[0]) * np.linalg.norm(features[4]))
    assert np.isclose(groups[CROSS_POSITIVE], expected).any()
    summary = gap_summary(groups)
    assert summary[MODALITY_GAP] == pytest.approx(summary[CROSS_POSITIVE] / summary[INTRA_POSITIVE])
    assert summary[MODALITY_GAP] > 1.0  # infrared images lie farther from their visible ones than from each other
    assert summary[CROSS_SEPARATION] == cross_separation(groups[CROSS_POSITIVE], groups[CROSS_NEGATIVE])


def test_the_separation_is_the_share_of_positive_negative_pairs_ordered_by_distance_ties_counting_half() -> None:
    # 0.1 lies below all three negatives; 0.5 below 0.9, tied with 0.5 and above 0.3: (3 + 1.5) / 6.
    assert cross_separation(np.array([0.1, 0.5]), np.array([0.3, 0.5, 0.9])) == pytest.approx(0.75)
    rng = np.random.default_rng(0)
    positive, negative = rng.integers(0, 20, 200) / 10.0, rng.integers(5, 25, 300) / 10.0
    pairs = negative[None, :] - positive[:, None]
    brute = ((pairs > 0).sum() + 0.5 * (pairs == 0).sum()) / pairs.size
    assert cross_separation(positive, negative) == pytest.approx(brute)
    assert cross_separation(np.array([1.0]), np.array([1.0])) == 0.5  # indistinguishable
    assert math.isnan(cross_separation(np.array([]), negative))


def test_sampled_features_are_unit_rows_visible_first_with_their_labels() -> None:
    visible = _records(range(3), 2, Modality.VISIBLE, 1)
    infrared = _records(range(3), 2, Modality.INFRARED, 3)
    subset = feature_subset(visible, infrared)

    def featurize(records: list[ImageRecord], modality: Modality) -> np.ndarray:
        return np.array([[r.pid + 1.0, 3.0 * int(modality), 1.0] for r in records])

    sample = sample_features(featurize, subset)
    assert sample.features.dtype == np.float16
    assert np.allclose(np.linalg.norm(sample.features.astype(np.float64), axis=1), 1.0, atol=1e-3)
    assert list(sample.modalities) == [0] * 6 + [1] * 6
    assert list(sample.pids) == [r.pid for r in subset.visible + subset.infrared]
    assert list(sample.camids) == [1] * 6 + [3] * 6


def test_a_sample_read_back_from_its_bytes_gives_the_same_distances() -> None:
    sample = _sample()
    back = sample_from_bytes(sample_bytes(sample))
    assert np.array_equal(back.features, sample.features) and np.array_equal(back.pids, sample.pids)
    assert gap_summary(distance_groups(back)) == gap_summary(distance_groups(sample))


def test_a_sample_always_gives_the_same_bytes() -> None:
    sample = _sample()
    data = sample_bytes(sample)
    # No member carries the time it was written (np.savez's would): the bytes, and so the sha256, follow the data.
    assert {member.date_time for member in zipfile.ZipFile(io.BytesIO(data)).infolist()} == {(1980, 1, 1, 0, 0, 0)}
    assert sample_bytes(sample_from_bytes(data)) == data


def test_bytes_that_are_not_a_sample_are_refused_with_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="not an npz"):
        sample_from_bytes(b"not a zip")
    buffer = io.BytesIO()
    np.savez(buffer, features=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="not a feature sample"):
        sample_from_bytes(buffer.getvalue())
