"""DBSCAN on sparse distances (absent = 1) against sklearn's DBSCAN on the dense matrix."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from sklearn.cluster import DBSCAN
from sklearn.metrics import adjusted_rand_score

from mmm.clustering.dbscan import dbscan_labels
from mmm.clustering.jaccard import jaccard_distance


def _sklearn_dense(distance: sparse.csr_matrix, eps: float, min_samples: int) -> np.ndarray:
    dense = np.ones(distance.shape)
    coo = distance.tocoo()
    dense[coo.row, coo.col] = coo.data
    return DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed").fit_predict(dense)


def _assert_same_clustering(labels: np.ndarray, expected: np.ndarray) -> None:
    np.testing.assert_array_equal(labels == -1, expected == -1)
    assert adjusted_rand_score(labels, expected) == 1.0
    # Stronger than the two checks above: sklearn's own label numbers are reproduced.
    np.testing.assert_array_equal(labels, expected)


def _jaccard_of_blobs(seed: int, n: int = 300, clusters: int = 15) -> sparse.csr_matrix:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, 24))
    x = centres[rng.integers(0, clusters, n)] + 0.9 * rng.standard_normal((n, 24))
    # A sprinkle of far-off points gives outliers and border points.
    x[: n // 20] = 3 * rng.standard_normal((n // 20, 24))
    return jaccard_distance(x.astype(np.float32), k1=20, k2=6)


def _random_symmetric(seed: int, n: int, density: float, levels: int) -> sparse.csr_matrix:
    """Random symmetric distances in [0, 1) on few distinct levels (many exact ties with eps), diagonal 0."""
    rng = np.random.default_rng(seed)
    upper = sparse.random(n, n, density=density, random_state=rng, format="coo")
    keep = upper.row < upper.col
    rows, cols = upper.row[keep], upper.col[keep]
    values = rng.integers(0, levels, rows.size) / levels
    return sparse.csr_matrix(
        (
            np.concatenate([values, values, np.zeros(n)]).astype(np.float32),
            (np.concatenate([rows, cols, np.arange(n)]), np.concatenate([cols, rows, np.arange(n)])),
        ),
        shape=(n, n),
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("eps", [0.3, 0.5, 0.6, 0.75])
def test_matches_sklearn_on_jaccard_distances(seed: int, eps: float) -> None:
    distance = _jaccard_of_blobs(seed)
    _assert_same_clustering(dbscan_labels(distance, eps, 4), _sklearn_dense(distance, eps, 4))


@pytest.mark.parametrize("seed", [3, 4])
def test_eps_equal_to_a_stored_distance_counts_that_pair_as_neighbours(seed: int) -> None:
    distance = _jaccard_of_blobs(seed)
    off_diagonal = distance.data[distance.data > 0]
    for eps in np.quantile(off_diagonal, [0.05, 0.2, 0.5]).astype(np.float32):
        eps = float(off_diagonal[np.argmin(abs(off_diagonal - eps))])
        _assert_same_clustering(dbscan_labels(distance, eps, 4), _sklearn_dense(distance, eps, 4))


@pytest.mark.parametrize("seed, min_samples", [(5, 2), (6, 3), (7, 4), (8, 6)])
def test_matches_sklearn_on_random_tied_distances(seed: int, min_samples: int) -> None:
    distance = _random_symmetric(seed, n=250, density=0.02, levels=10)
    for eps in (0.1, 0.3, 0.5):
        labels = dbscan_labels(distance, eps, min_samples)
        _assert_same_clustering(labels, _sklearn_dense(distance, eps, min_samples))


def _from_pairs(n: int, pairs: list[tuple[int, int]], value: float) -> sparse.csr_matrix:
    rows = [i for i, _ in pairs] + [j for _, j in pairs] + list(range(n))
    cols = [j for _, j in pairs] + [i for i, _ in pairs] + list(range(n))
    return sparse.csr_matrix(([value] * 2 * len(pairs) + [0.0] * n, (rows, cols)), shape=(n, n))


def test_border_point_joins_the_cluster_found_first() -> None:
    # Cores {0, 7, 8, 9} and {2, 3, 4, 5}, each fully linked; point 6 links to 2 and to 9 only, too few to
    # be a core. The cluster holding point 0 is expanded first, so 6 joins it although its lower-index
    # neighbour 2 is in the other cluster. Point 1 is alone.
    group_a, group_b = [0, 7, 8, 9], [2, 3, 4, 5]
    pairs = [(i, j) for group in (group_a, group_b) for i in group for j in group if i < j] + [(2, 6), (6, 9)]
    distance = _from_pairs(10, pairs, 0.1)
    labels = dbscan_labels(distance, eps=0.2, min_samples=4)
    np.testing.assert_array_equal(labels, [0, -1, 1, 1, 1, 1, 0, 0, 0, 0])
    _assert_same_clustering(labels, _sklearn_dense(distance, 0.2, 4))


def test_explicitly_stored_zero_distances_are_neighbours() -> None:
    n = 4
    rows, cols = np.array([0, 1, 0, 2, 1, 2]), np.array([1, 0, 2, 0, 2, 1])
    distance = sparse.csr_matrix((np.zeros(rows.size), (rows, cols)), shape=(n, n))
    labels = dbscan_labels(distance, eps=0.1, min_samples=3)
    np.testing.assert_array_equal(labels, [0, 0, 0, -1])


def test_point_counts_itself_even_without_a_stored_diagonal() -> None:
    distance = sparse.csr_matrix(([0.1, 0.1], ([0, 1], [1, 0])), shape=(3, 3))
    np.testing.assert_array_equal(dbscan_labels(distance, eps=0.2, min_samples=2), [0, 0, -1])


def test_no_core_point_leaves_everything_an_outlier() -> None:
    distance = _random_symmetric(9, n=50, density=0.01, levels=4)
    np.testing.assert_array_equal(dbscan_labels(distance, eps=0.3, min_samples=50), -1)


@pytest.mark.parametrize("eps", [1.0, 1.5, -0.1])
def test_eps_outside_zero_to_one_is_rejected(eps: float) -> None:
    with pytest.raises(ValueError, match="eps"):
        dbscan_labels(sparse.identity(3, format="csr"), eps=eps)


def test_distances_capped_above_eps_give_the_same_clusters() -> None:
    rng = np.random.default_rng(10)
    x = rng.standard_normal((15, 24))[rng.integers(0, 15, 300)] + 0.9 * rng.standard_normal((300, 24))
    full = jaccard_distance(x.astype(np.float32), k1=20, k2=6)
    capped = jaccard_distance(x.astype(np.float32), k1=20, k2=6, max_distance=0.65)
    assert capped.nnz < full.nnz
    np.testing.assert_array_equal(dbscan_labels(capped, 0.6, 4), dbscan_labels(full, 0.6, 4))
