"""Tests of the identity-balanced batch samplers over pseudo-labels."""

from __future__ import annotations

import inspect
import logging

import numpy as np
import pytest

from mmm.data.sampler import AllImagesSampler, IdentityBalancedSampler, IndexBatch, ModalityBatchSampler

P, K = 4, 3


def _labels(seed: int, n: int, identities: int, outlier_rate: float = 0.2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, identities, n)
    labels[rng.random(n) < outlier_rate] = -1
    return labels


def _shared_labels() -> tuple[np.ndarray, np.ndarray]:
    """Visible ids 0..9, infrared ids 3..12: the shared ones are 3..9; some ids have a single member."""
    visible = np.concatenate([_labels(0, 120, 10), [-1, -1]])
    infrared = np.concatenate([_labels(1, 90, 10) + 3, [12]])
    infrared[infrared == 2] = -1
    return visible, infrared


def _identities(labels: np.ndarray, idx: np.ndarray, k: int = K) -> list[int]:
    """The identity of each run of k positions."""
    return [int(labels[idx[i]]) for i in range(0, len(idx), k)]


def test_balanced_batches_hold_p_distinct_shared_identities_with_k_per_modality() -> None:
    visible, infrared = _shared_labels()
    batches = list(IdentityBalancedSampler(visible, infrared, P, K, iterations=20, seed=0))
    assert len(batches) == 20
    shared = set(np.intersect1d(visible[visible >= 0], infrared[infrared >= 0]).tolist())
    for batch in batches:
        assert isinstance(batch, IndexBatch)
        assert batch.visible.shape == batch.infrared.shape == (P * K,)
        assert batch.visible.dtype == batch.infrared.dtype == np.int64
        ids = _identities(visible, batch.visible)
        assert len(set(ids)) == P and set(ids) <= shared
        # Position i of both arrays belongs to one identity, K positions per identity in a row.
        np.testing.assert_array_equal(visible[batch.visible], infrared[batch.infrared])
        np.testing.assert_array_equal(visible[batch.visible], np.repeat(ids, K))


def test_outliers_are_never_sampled() -> None:
    visible, infrared = _shared_labels()
    for sampler_type in (IdentityBalancedSampler, ModalityBatchSampler):
        for batch in sampler_type(visible, infrared, P, K, iterations=50, seed=3):
            assert (visible[batch.visible] >= 0).all() and (infrared[batch.infrared] >= 0).all()


def test_identity_with_fewer_than_k_members_is_sampled_with_replacement() -> None:
    visible = np.array([0, 0, 1, 1, 1, 1])
    infrared = np.array([0, 1, 1, 1, 1])
    batch = next(iter(IdentityBalancedSampler(visible, infrared, 2, 4, iterations=1, seed=0)))
    ids = _identities(visible, batch.visible, k=4)
    zero = batch.infrared[ids.index(0) * 4 : ids.index(0) * 4 + 4]
    np.testing.assert_array_equal(zero, [0, 0, 0, 0])
    one = batch.visible[ids.index(1) * 4 : ids.index(1) * 4 + 4]
    assert sorted(one.tolist()) == [2, 3, 4, 5]


def test_modality_batches_draw_identities_independently_per_label_space() -> None:
    visible = _labels(0, 100, 8)
    infrared = _labels(1, 60, 6) + 100
    infrared[infrared == 99] = -1
    for batch in ModalityBatchSampler(visible, infrared, P, K, iterations=20, seed=0):
        for labels, idx in ((visible, batch.visible), (infrared, batch.infrared)):
            ids = _identities(labels, idx)
            assert idx.shape == (P * K,) and len(set(ids)) == P
            np.testing.assert_array_equal(labels[idx], np.repeat(ids, K))


def test_same_seed_gives_the_same_batches_and_another_seed_others() -> None:
    visible, infrared = _shared_labels()
    for sampler_type in (IdentityBalancedSampler, ModalityBatchSampler):
        first = list(sampler_type(visible, infrared, P, K, iterations=5, seed=(11, 2)))
        again = list(sampler_type(visible, infrared, P, K, iterations=5, seed=(11, 2)))
        other = list(sampler_type(visible, infrared, P, K, iterations=5, seed=(11, 3)))
        assert all(
            np.array_equal(a.visible, b.visible) and np.array_equal(a.infrared, b.infrared)
            for a, b in zip(first, again)
        )
        assert any(not np.array_equal(a.visible, b.visible) for a, b in zip(first, other))


def test_reiterating_a_sampler_repeats_its_batches() -> None:
    sampler = IdentityBalancedSampler(*_shared_labels(), P, K, iterations=3, seed=5)
    assert all(np.array_equal(a.visible, b.visible) for a, b in zip(sampler, sampler))
    assert len(sampler) == 3


def test_no_identity_in_both_modalities_is_an_error() -> None:
    with pytest.raises(ValueError, match="both visible and infrared"):
        IdentityBalancedSampler(np.array([0, 0, 1]), np.array([2, 2, -1]), P, K, iterations=1, seed=0)


def test_all_outliers_in_one_modality_is_an_error() -> None:
    with pytest.raises(ValueError, match="no infrared identity"):
        ModalityBatchSampler(np.array([0, 1]), np.array([-1, -1]), P, K, iterations=1, seed=0)


def test_fewer_than_p_identities_uses_all_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    visible = np.array([0, 0, 1, 1, 5])
    infrared = np.array([0, 1, 1, 7])
    with caplog.at_level(logging.WARNING, logger="mmm.data.sampler"):
        sampler = IdentityBalancedSampler(visible, infrared, P, K, iterations=2, seed=0)
    assert "only 2" in caplog.text
    for batch in sampler:
        assert sorted(set(visible[batch.visible].tolist())) == [0, 1]
        assert len(batch.visible) == 2 * K


def test_invalid_labels_and_counts_are_rejected() -> None:
    good = np.array([0, 1, 1])
    with pytest.raises(ValueError, match="1-D integer"):
        IdentityBalancedSampler(good.astype(float), good, P, K, iterations=1, seed=0)
    with pytest.raises(ValueError, match="outliers"):
        ModalityBatchSampler(np.array([0, -2]), good, P, K, iterations=1, seed=0)
    with pytest.raises(ValueError, match="num_instances"):
        ModalityBatchSampler(good, good, P, 0, iterations=1, seed=0)


def test_batches_follow_the_pseudo_labels_given_not_the_true_identities() -> None:
    # The constructor takes pseudo-labels, counts and cameras (image metadata) only; nothing could carry ground truth.
    params = set(inspect.signature(IdentityBalancedSampler).parameters)
    assert params == {
        "labels_visible",
        "labels_infrared",
        "num_identities",
        "num_instances",
        "iterations",
        "seed",
        "cameras",
    }
    true_pids = np.repeat(np.arange(6), 4)
    pseudo = np.roll(true_pids, 2)
    for batch in IdentityBalancedSampler(pseudo, pseudo, 3, 2, iterations=10, seed=0):
        groups = pseudo[batch.visible].reshape(3, 2)
        assert (groups == groups[:, :1]).all()
    mixes_true_ids = any(
        len(set(true_pids[batch.visible[:2]].tolist())) > 1
        for batch in IdentityBalancedSampler(pseudo, pseudo, 3, 2, iterations=10, seed=0)
    )
    assert mixes_true_ids


def test_camera_aware_batches_take_an_identitys_other_instances_from_other_cameras() -> None:
    # Identity 0: 6 rows on camera 1, 2 on camera 2, 1 on camera 3. Identity 1: every row on camera 4.
    labels = np.array([0] * 9 + [1] * 5)
    cameras = np.array([1] * 6 + [2, 2, 3] + [4] * 5)
    sampler = ModalityBatchSampler(labels, labels, 2, 4, iterations=50, seed=0, cameras=(cameras, cameras))
    anchors_on_camera_1 = 0
    for batch in sampler:
        for group in batch.visible.reshape(2, 4):
            anchor, rest = group[0], group[1:]
            if labels[anchor] == 0:
                assert (cameras[rest] != cameras[anchor]).all()
                anchors_on_camera_1 += int(cameras[anchor] == 1)
            else:
                assert (rest != anchor).all()  # one camera only: the other members of the identity
    assert anchors_on_camera_1 > 0
    plain = ModalityBatchSampler(labels, labels, 2, 4, iterations=50, seed=0)
    same_camera = sum(
        int((cameras[group[1:]] == cameras[group[0]]).any())
        for batch in plain
        for group in batch.visible.reshape(2, 4)
        if labels[group[0]] == 0
    )
    assert same_camera > 0  # without cameras, the draw ignores them


def test_the_warm_up_sampler_passes_over_every_labelled_image_of_each_modality() -> None:
    visible, infrared = _shared_labels()
    labelled_v, labelled_r = np.flatnonzero(visible >= 0), np.flatnonzero(infrared >= 0)
    steps = len(labelled_r) // 8  # one pass over the infrared images (the smaller set), in batches of 8
    sampler = AllImagesSampler(visible, infrared, batch_size=8, iterations=steps, seed=(0, 1))
    batches = list(sampler)
    assert len(batches) == steps and all(len(b.visible) == len(b.infrared) == 8 for b in batches)
    seen_r = np.concatenate([b.infrared for b in batches])
    assert len(set(seen_r.tolist())) == len(seen_r) and set(seen_r.tolist()) <= set(labelled_r.tolist())
    seen_v = np.concatenate([b.visible for b in batches])
    assert len(set(seen_v.tolist())) == len(seen_v) and set(seen_v.tolist()) <= set(labelled_v.tolist())
    # Past one pass a modality starts another, reshuffled; outliers never appear.
    long = np.concatenate([b.infrared for b in AllImagesSampler(visible, infrared, 8, 3 * steps, seed=(0, 1))])
    assert set(long.tolist()) == set(labelled_r.tolist())
    assert [b.visible.tolist() for b in sampler] == [b.visible.tolist() for b in batches]  # same batches again
    # Unlike stage C's identity-balanced batches, position i of the two arrays need not share a label.
    assert any(visible[v] != infrared[r] for b in batches for v, r in zip(b.visible, b.infrared))
