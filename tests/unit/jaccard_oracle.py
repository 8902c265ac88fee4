"""Dense reference for the k-reciprocal Jaccard distance: the classic algorithm written plainly with loops,
one sample at a time and an N x N encoding matrix, to check the sparse implementation against.

Conventions follow docs/design.md §1.3 and mmm.clustering.jaccard: the kNN list has k1 entries (the sample itself
first) and is the forward set; half sets use the first round(k1/2) + 1 entries.
"""

from __future__ import annotations

import numpy as np


def dense_ranking(features: np.ndarray, length: int) -> np.ndarray:
    """The first `length` entries of each row's ranking by cosine similarity, the sample itself first."""
    x = features / np.linalg.norm(features, axis=1, keepdims=True)
    sims = x @ x.T
    np.fill_diagonal(sims, np.inf)
    return np.argsort(-sims, axis=1, kind="stable")[:, :length]


def k_reciprocal(ranking: np.ndarray, i: int, length: int) -> np.ndarray:
    """Members j of i's first `length` entries whose own first `length` entries contain i."""
    forward = ranking[i, :length]
    return np.array([j for j in forward if i in ranking[j, :length]], dtype=np.int64)


def encodings(x: np.ndarray, ranking: np.ndarray, k1: int) -> np.ndarray:
    """Dense V: row i = softmax(−(2 − 2 cos)) over i's expanded k-reciprocal set, zero elsewhere."""
    n, length = ranking.shape
    half_length = min(length, int(np.around(k1 / 2)) + 1)
    full_sets = [k_reciprocal(ranking, i, length) for i in range(n)]
    half_sets = [k_reciprocal(ranking, i, half_length) for i in range(n)]
    v = np.zeros((n, n))
    for i in range(n):
        reciprocal = full_sets[i]
        expanded = list(reciprocal)
        for candidate in reciprocal:
            half = half_sets[candidate]
            if len(np.intersect1d(half, reciprocal)) > 2 / 3 * len(half):
                expanded.extend(half)
        members = np.unique(expanded)
        weights = np.exp(-(2 - 2 * x[members] @ x[i]))
        v[i, members] = weights / weights.sum()
    return v


def query_expansion(v: np.ndarray, ranking: np.ndarray, k2: int, modality: np.ndarray | None) -> np.ndarray:
    """Mean encoding over the first k2 kNN entries; with modality, the mean of the per-modality means."""
    expanded = np.zeros_like(v)
    for i in range(v.shape[0]):
        neighbours = ranking[i, :k2]
        if modality is None:
            expanded[i] = v[neighbours].mean(axis=0)
            continue
        means = [
            v[neighbours[modality[neighbours] == m]].mean(axis=0) for m in (0, 1) if (modality[neighbours] == m).any()
        ]
        expanded[i] = np.mean(means, axis=0)
    return expanded


def jaccard_from_encodings(v: np.ndarray) -> np.ndarray:
    """Dense distance 1 − m/(2 − m), m_ij = Σ_k min(V_ik, V_jk), through the inverted index of V."""
    n = v.shape[0]
    rows_of_column = [np.flatnonzero(v[:, k]) for k in range(n)]
    dist = np.zeros((n, n))
    for i in range(n):
        overlap = np.zeros(n)
        for k in np.flatnonzero(v[i]):
            others = rows_of_column[k]
            overlap[others] += np.minimum(v[i, k], v[others, k])
        dist[i] = 1 - overlap / (2 - overlap)
    return np.maximum(dist, 0)


def oracle_jaccard(
    features: np.ndarray,
    k1: int,
    k2: int,
    modality: np.ndarray | None = None,
    ranking: np.ndarray | None = None,
) -> np.ndarray:
    """Dense N x N Jaccard distance. `ranking` (N, ≥ min(k1, N)) replaces the oracle's own dense kNN lists,
    so a comparison can share the kNN lists and leave near-tied rankings out of the question."""
    x = np.asarray(features, dtype=np.float64)
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    length = min(k1, x.shape[0])
    ranking = dense_ranking(x, length) if ranking is None else np.asarray(ranking)[:, :length]
    v = encodings(x, ranking, k1)
    if k2 > 1:
        v = query_expansion(v, ranking, min(k2, length), modality)
    return jaccard_from_encodings(v)
