"""DBSCAN on a sparse precomputed distance matrix whose absent entries mean distance 1 (the Jaccard output).

Own implementation on scipy.sparse.csgraph rather than sklearn's, which would materialise one neighbour
array per sample. The labels are identical to sklearn's `DBSCAN(eps, min_samples, metric="precomputed")`
run on the dense matrix, label numbers included, because sklearn's order is deterministic and is replicated:
- neighbours of i are the entries of row i with distance <= eps (compared exactly, as float64 values), i
  itself always counted (the diagonal is 0);
- core points have at least `min_samples` neighbours; clusters are the connected components of the
  core points, numbered in order of their smallest member index (sklearn starts a new cluster at the next
  unlabelled core point in index order and expands it fully before moving on);
- a non-core point next to several clusters therefore joins the one with the smallest number, the first to
  reach it; a non-core point next to none is an outlier, -1.
The matrix must be symmetric, as a distance is.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph


def _neighbour_graph(distance: sparse.csr_matrix, eps: float) -> sparse.csr_matrix:
    """0/1 graph of the stored off-diagonal entries within eps (explicitly stored zeros included)."""
    csr = sparse.csr_matrix(distance)
    n = csr.shape[0]
    rows = np.repeat(np.arange(n), np.diff(csr.indptr))
    # A float64 eps keeps float32 data from pulling eps down to float32: 0.1 must not admit 0.1f (> 0.1).
    keep = (csr.data <= np.float64(eps)) & (csr.indices != rows)
    return sparse.csr_matrix((np.ones(int(keep.sum()), dtype=np.int8), (rows[keep], csr.indices[keep])), shape=(n, n))


def dbscan_labels(distance: sparse.spmatrix, eps: float, min_samples: int = 4) -> np.ndarray:
    """Cluster labels (int64, -1 for outliers) of DBSCAN on a sparse symmetric distance matrix.

    Absent entries are distance 1, so eps must be below 1 for them never to be neighbours.
    """
    n = distance.shape[0]
    if distance.shape != (n, n):
        raise ValueError(f"distance must be square, got shape {distance.shape}")
    if not 0 <= eps < 1:
        raise ValueError(f"eps must lie in [0, 1): absent entries are at distance 1; got {eps}")
    if min_samples < 1:
        raise ValueError(f"min_samples must be positive, got {min_samples}")
    graph = _neighbour_graph(distance, eps)
    core = np.diff(graph.indptr) + 1 >= min_samples
    core_ids = np.flatnonzero(core)
    labels = np.full(n, -1, dtype=np.int64)
    if core_ids.size == 0:
        return labels

    _, component = csgraph.connected_components(graph[core_ids][:, core_ids], directed=False)
    # Number the components by their smallest core index, scanning core points in index order.
    _, first_seen = np.unique(component, return_index=True)
    rank = np.empty(first_seen.size, dtype=np.int64)
    rank[np.argsort(first_seen)] = np.arange(first_seen.size)
    labels[core_ids] = rank[component]

    core_graph = graph[core_ids].tocoo()
    border = ~core[core_graph.col]
    reached, from_label = core_graph.col[border], labels[core_ids][core_graph.row[border]]
    if reached.size:
        best = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(best, reached, from_label)
        labels[reached] = best[reached]
    return labels
