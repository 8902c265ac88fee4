"""The benchmarks' own machinery: seeded inputs, result checks that reject wrong answers, the floor cache.

Plain tests (no benchmark fixture), so they run in the default test run and are skipped by --benchmark-only.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import sparse

from tests.bench.cases import DatasetSpec, MatchingCase
from tests.bench.checks import check_chamfer, check_distance, check_knn, check_labels, check_matching
from tests.bench.data import matching_problem, synthetic_features
from tests.bench.floor import FloorTimes
from tests.bench.saved_activations import step_saved_bytes

TINY = DatasetSpec("tiny", 120, 80, 20, equal_sizes=False, group_share=0.5, noise=1.0)


def test_synthetic_features_are_seeded_unit_rows_with_every_identity() -> None:
    first, second = synthetic_features(TINY, dim=32), synthetic_features(TINY, dim=32)
    np.testing.assert_array_equal(first.features, second.features)
    np.testing.assert_allclose(np.linalg.norm(first.features, axis=1), 1.0, atol=1e-5)
    for code, rows in ((0, first.rows(("visible",))), (1, first.rows(("infrared",)))):
        assert (first.modality[rows] == code).all()
        assert set(first.identity[rows]) == set(range(TINY.identities))


def test_matching_problem_has_contiguous_labels_and_a_planted_answer() -> None:
    case = MatchingCase("tiny", "regdb", TINY, clusters_visible=30, clusters_infrared=20)
    problem = matching_problem(case)
    for labels, count in ((problem.labels_v, 30), (problem.labels_r, 20)):
        assert set(labels[labels >= 0]) == set(range(count))
    assert problem.planted.shape == (30,)
    assert set(problem.planted) == set(range(20))


def test_knn_check_rejects_neighbours_that_are_not_the_nearest() -> None:
    x = synthetic_features(TINY, dim=32).features
    exact = x @ x.T
    idx = np.argsort(-exact, axis=1)[:, :5]
    sims = np.take_along_axis(exact, idx, axis=1)
    check_knn(x, sims, idx, 5)
    with pytest.raises(AssertionError):
        check_knn(x, sims[:, ::-1].copy(), idx[:, ::-1].copy(), 5)


def test_label_check_rejects_labels_unrelated_to_the_identities() -> None:
    identity = np.repeat(np.arange(10), 8)
    assert check_labels(identity.copy(), identity, min_ari=0.99) == pytest.approx(1.0)
    with pytest.raises(AssertionError):
        check_labels(np.full_like(identity, -1), identity, min_ari=0.5)


def test_distance_check_rejects_an_asymmetric_matrix() -> None:
    identity = np.array([0, 0, 1, 1])
    good = sparse.csr_matrix(np.array([[0, 0.1, 0, 0], [0.1, 0, 0, 0], [0, 0, 0, 0.2], [0, 0, 0.2, 0]]))
    check_distance(good, identity, eps=0.3)
    bad = good.tolil()
    bad[0, 1] = 0.9
    with pytest.raises(AssertionError):
        check_distance(bad.tocsr(), identity, eps=0.3)


def test_chamfer_and_matching_checks_reject_wrong_values() -> None:
    centres_v, centres_r = torch.randn(3, 2, 4, dtype=torch.float64), torch.randn(5, 2, 4, dtype=torch.float64)
    cost = torch.cdist(centres_v.reshape(6, 4), centres_r.reshape(10, 4)).view(3, 2, 5, 2).amin(3).sum(1)
    check_chamfer(cost, centres_v, centres_r)
    with pytest.raises(AssertionError):
        check_chamfer(cost + 0.1, centres_v, centres_r)
    with pytest.raises(AssertionError):
        check_matching(np.array([0, 1, 2]), np.array([0, 1, 3]), min_accuracy=0.95)


def test_floor_times_reuse_a_recorded_median_instead_of_timing() -> None:
    floors = FloorTimes(runs=3)
    floors.record("case", 2.5)
    assert floors.median("case", lambda: pytest.fail("a recorded floor must not be timed again")) == 2.5
    calls = []
    assert floors.median("other", lambda: calls.append(1)) >= 0
    assert len(calls) == 3


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_saved_bytes_counted_on_fake_tensors_are_those_of_a_real_step(precision: str) -> None:
    fake = step_saved_bytes("agw_resnet18_small", 64, 32, 4, precision, fake=True)
    real = step_saved_bytes("agw_resnet18_small", 64, 32, 4, precision, fake=False)
    assert fake.images == real.images == 12
    # The fake kernels give BatchNorm's saved per-channel statistics the input's dtype (bf16) where the CPU keeps
    # them in float32: a few kB per step, whatever the batch.
    assert abs(fake.total - real.total) <= (0 if precision == "fp32" else 64_000)
    assert real.total > 10 * 64_000


def test_saved_bytes_grow_with_the_batch_and_halve_per_image_in_bf16() -> None:
    fp32 = [step_saved_bytes("agw_resnet18_small", 64, 32, n, "fp32").total for n in (4, 8)]
    bf16 = [step_saved_bytes("agw_resnet18_small", 64, 32, n, "bf16").total for n in (4, 8)]
    assert fp32[1] == pytest.approx(2 * fp32[0], rel=0.02)
    # Per image (the growth with the batch; the bf16 copies of the weights are a constant), bf16 saves about half.
    assert 0.45 < (bf16[1] - bf16[0]) / (fp32[1] - fp32[0]) < 0.6
