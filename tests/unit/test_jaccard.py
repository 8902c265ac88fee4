"""Sparse k-reciprocal Jaccard distance against the dense loop-based oracle (tests/unit/jaccard_oracle.py)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch
from scipy import sparse

from mmm.clustering import overlap
from mmm.clustering.jaccard import jaccard_distance
from mmm.clustering.knn import exact_knn
from tests.unit.jaccard_oracle import dense_ranking, oracle_jaccard


def _clustered(seed: int, n: int, d: int, clusters: int, noise: float = 0.7) -> np.ndarray:
    """Gaussian blobs around random centres, with cluster sizes drawn unevenly, as float32."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, d))
    members = rng.choice(clusters, size=n, p=rng.dirichlet(np.full(clusters, 2.0)))
    return (centres[members] + noise * rng.standard_normal((n, d))).astype(np.float32)


def _modalities(seed: int, n: int) -> np.ndarray:
    return (np.random.default_rng(seed + 1000).random(n) < 0.4).astype(np.int64)


def _dense(distance: sparse.csr_matrix) -> np.ndarray:
    """Dense copy with absent entries at distance 1."""
    out = np.ones(distance.shape)
    coo = distance.tocoo()
    out[coo.row, coo.col] = coo.data
    return out


def _stored(distance: sparse.csr_matrix) -> np.ndarray:
    out = np.zeros(distance.shape, dtype=bool)
    coo = distance.tocoo()
    out[coo.row, coo.col] = True
    return out


CASES = [
    # seed, n, d, clusters, k1, k2, with modality
    (0, 200, 16, 12, 20, 6, False),
    (1, 300, 32, 15, 30, 6, False),
    (2, 400, 64, 20, 30, 6, True),
    (3, 250, 16, 10, 13, 1, False),
    (4, 250, 32, 10, 25, 1, True),
    (5, 350, 24, 25, 40, 32, True),
    (6, 220, 48, 8, 11, 7, False),
]


def _case_id(case: tuple) -> str:
    return "seed{}-n{}-d{}-c{}-k1_{}-k2_{}-mod{}".format(*case)


@pytest.fixture(scope="module", params=CASES, ids=_case_id)
def sparse_and_oracle(request: pytest.FixtureRequest) -> tuple[sparse.csr_matrix, np.ndarray]:
    """One case's sparse result and the dense oracle on the same kNN lists (computed once for both tests)."""
    seed, n, d, clusters, k1, k2, with_modality = request.param
    x = _clustered(seed, n, d, clusters)
    modality = _modalities(seed, n) if with_modality else None
    _, ranking = exact_knn(x, min(k1, n))
    return jaccard_distance(x, k1, k2, modality), oracle_jaccard(x, k1, k2, modality, ranking=ranking)


def test_matches_dense_oracle_on_shared_knn_lists(
    sparse_and_oracle: tuple[sparse.csr_matrix, np.ndarray],
) -> None:
    result, expected = sparse_and_oracle
    np.testing.assert_allclose(_dense(result), expected, atol=1e-6, rtol=0)


def test_stores_exactly_the_pairs_below_one(sparse_and_oracle: tuple[sparse.csr_matrix, np.ndarray]) -> None:
    result, expected = sparse_and_oracle
    np.testing.assert_array_equal(_stored(result), expected < 1)


def test_matches_oracle_with_its_own_dense_ranking() -> None:
    # The oracle ranks by float64 cosine, faiss by float32: their lists agree only if no two neighbours
    # near a list boundary are closer than float32 error. This data set is checked to have such gaps.
    k1, k2 = 20, 6
    x = _clustered(28, 150, 16, 6, noise=0.9)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    dense = unit.astype(np.float64) @ unit.T.astype(np.float64)
    np.fill_diagonal(dense, np.inf)
    ordered = -np.sort(-dense, axis=1)
    for boundary in (k2, k1 // 2 + 1, k1):
        assert (ordered[:, boundary - 1] - ordered[:, boundary]).min() > 1e-5
    expected = oracle_jaccard(x, k1, k2)
    np.testing.assert_array_equal(dense_ranking(x, k1), exact_knn(x, k1)[1])
    np.testing.assert_allclose(_dense(jaccard_distance(x, k1, k2)), expected, atol=1e-6, rtol=0)


def test_diagonal_is_stored_as_zero() -> None:
    result = jaccard_distance(_clustered(12, 150, 16, 8), k1=15, k2=4)
    assert _stored(result).diagonal().all()
    np.testing.assert_array_equal(result.diagonal(), 0.0)


def test_distance_is_symmetric_in_structure_and_values() -> None:
    result = jaccard_distance(_clustered(13, 300, 16, 12), k1=20, k2=6, modality=_modalities(13, 300))
    assert (result != result.T).nnz == 0
    np.testing.assert_array_equal(_stored(result), _stored(result).T)


def test_result_is_canonical_float32_csr() -> None:
    result = jaccard_distance(_clustered(14, 120, 8, 6), k1=10, k2=3)
    assert isinstance(result, sparse.csr_matrix)
    assert result.dtype == np.float32
    assert result.has_canonical_format
    assert result.data.min() >= 0.0 and result.data.max() < 1.0


def test_exact_duplicates_are_stored_at_distance_zero() -> None:
    x = _clustered(15, 100, 8, 5)
    x[1] = x[0]
    result = jaccard_distance(x, k1=10, k2=1)
    assert _stored(result)[0, 1]
    assert result[0, 1] == pytest.approx(0.0, abs=1e-6)


def test_fewer_samples_than_k1_uses_every_sample() -> None:
    x = _clustered(16, 12, 8, 2)
    expected = oracle_jaccard(x, 30, 6, ranking=exact_knn(x, 12)[1])
    np.testing.assert_allclose(_dense(jaccard_distance(x, k1=30, k2=6)), expected, atol=1e-6, rtol=0)


def test_modality_balanced_expansion_differs_from_plain_mean() -> None:
    x = _clustered(17, 200, 16, 8)
    modality = _modalities(17, 200)
    plain = jaccard_distance(x, k1=20, k2=8)
    balanced = jaccard_distance(x, k1=20, k2=8, modality=modality)
    assert abs(_dense(plain) - _dense(balanced)).max() > 1e-3


def test_single_modality_labels_give_the_plain_distance() -> None:
    x = _clustered(18, 200, 16, 8)
    plain = jaccard_distance(x, k1=20, k2=6)
    one_modality = jaccard_distance(x, k1=20, k2=6, modality=np.ones(200, dtype=np.int64))
    np.testing.assert_allclose(_dense(one_modality), _dense(plain), atol=1e-7, rtol=0)


def test_torch_features_and_modality_are_accepted() -> None:
    x = _clustered(19, 150, 16, 6)
    modality = _modalities(19, 150)
    from_numpy = jaccard_distance(x, k1=15, k2=4, modality=modality)
    from_torch = jaccard_distance(torch.from_numpy(x), k1=15, k2=4, modality=torch.from_numpy(modality))
    assert (from_numpy != from_torch).nnz == 0


@pytest.mark.parametrize("modality", [np.zeros(99, dtype=np.int64), np.full(100, 2)])
def test_malformed_modality_is_rejected(modality: np.ndarray) -> None:
    with pytest.raises(ValueError, match="modality"):
        jaccard_distance(_clustered(20, 100, 8, 4), k1=10, k2=3, modality=modality)


def test_never_allocates_an_n_by_n_array() -> None:
    n = 3000
    x = _clustered(21, n, 32, 100, noise=0.5)
    tracemalloc.start()
    try:
        jaccard_distance(x, k1=30, k2=6)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A dense float64 N x N is 72 MB here and a float32 one 36 MB; the sparse pipeline needs about 17 MB.
    assert peak < n * n * 8 / 3


def test_max_distance_keeps_exactly_the_closer_pairs() -> None:
    x = _clustered(22, 300, 16, 12)
    full = jaccard_distance(x, k1=20, k2=6)
    capped = jaccard_distance(x, k1=20, k2=6, max_distance=0.7)
    expected = _stored(full) & (_dense(full) < 0.7)
    np.testing.assert_array_equal(_stored(capped), expected)
    np.testing.assert_array_equal(_dense(capped)[expected], _dense(full)[expected])
    assert capped.has_canonical_format and _stored(capped).diagonal().all()


@pytest.mark.parametrize("max_distance", [0.0, 1.5])
def test_max_distance_outside_zero_to_one_is_rejected(max_distance: float) -> None:
    with pytest.raises(ValueError, match="max_distance"):
        jaccard_distance(_clustered(23, 50, 8, 3), k1=10, k2=3, max_distance=max_distance)


@pytest.mark.parametrize("block_contributions, block_cells", [(1 << 17, 1 << 19), (50, 1 << 19), (1 << 17, 120)])
def test_min_overlap_matches_brute_force_across_block_sizes(
    monkeypatch: pytest.MonkeyPatch, block_contributions: int, block_cells: int
) -> None:
    # Tiny budgets force many blocks, single over-budget rows and one-row accumulators.
    monkeypatch.setattr(overlap, "BLOCK_CONTRIBUTIONS", block_contributions)
    monkeypatch.setattr(overlap, "BLOCK_CELLS", block_cells)
    rng = np.random.default_rng(24)
    v = sparse.random(60, 60, density=0.15, random_state=rng, format="csr")
    v = v + sparse.identity(60, format="csr")
    dense = v.toarray()
    expected = np.triu(np.minimum(dense[:, None, :], dense[None, :, :]).sum(axis=2))
    result = overlap.pairwise_min_overlap(sparse.csr_matrix(v))
    assert result.has_canonical_format
    np.testing.assert_array_equal(result.toarray() > 0, expected > 0)
    np.testing.assert_allclose(result.toarray(), expected, rtol=1e-12)
    np.testing.assert_array_equal(result.indices[result.indptr[:-1]], np.arange(60))
