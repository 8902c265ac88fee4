"""Sparse k-reciprocal Jaccard distance (the classic re-ranking distance of the USL-VI-ReID code), with the
modality-balanced query expansion of CMC (docs/design.md §1.3 and §1.4).

Pipeline: exact kNN → expanded k-reciprocal sets (reciprocal.py) → sparse softmax encodings V → query
expansion as a sparse averaging matrix times V → pairwise min-overlap (overlap.py) → distance, mirrored
into a symmetric CSR. The encodings hold O(N·k1·k2) entries at most and the result one entry per pair with
overlapping encodings; no N x N dense array is ever built.
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from scipy import sparse

from mmm.clustering.knn import exact_knn, unit_rows
from mmm.clustering.overlap import pairwise_min_overlap
from mmm.clustering.reciprocal import expanded_sets

log = logging.getLogger(__name__)

# Pairs whose cosine is not already known from the kNN search are dotted in chunks of this many pairs: small
# enough for the gathered rows to stay in cache between the gather and the product (twice as fast as 4096).
DOT_CHUNK = 256


def _pair_cosines(x: np.ndarray, support: sparse.csr_matrix, sims: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """cos(x_i, x_j) for every stored (i, j) of `support`, in its storage order.

    Most pairs are in i's kNN list, whose similarities the search already returned; only pairs added by
    the expansion (members of a neighbour's half set outside i's own list) are dotted here.
    """
    n = x.shape[0]
    rows = np.repeat(np.arange(n, dtype=np.int64), np.diff(support.indptr))
    keys = rows * n + support.indices
    knn_keys = (np.arange(n, dtype=np.int64)[:, None] * n + idx).ravel()
    order = np.argsort(knn_keys)
    knn_keys, knn_sims = knn_keys[order], sims.ravel()[order]
    found_at = np.minimum(np.searchsorted(knn_keys, keys), knn_keys.size - 1)
    known = knn_keys[found_at] == keys
    cos = np.where(known, knn_sims[found_at], 0.0).astype(np.float64)
    missing = np.flatnonzero(~known)
    for start in range(0, missing.size, DOT_CHUNK):
        chunk = missing[start : start + DOT_CHUNK]
        cos[chunk] = np.einsum("ij,ij->i", x[rows[chunk]], x[support.indices[chunk]])
    return cos


def _encodings(x: np.ndarray, support: sparse.csr_matrix, sims: np.ndarray, idx: np.ndarray) -> sparse.csr_matrix:
    """V: row i = softmax(−d_ij) over j in i's expanded set. d = 2 − 2 cos (squared unit-row distance)."""
    cos = _pair_cosines(x, support, sims, idx)
    starts = support.indptr[:-1]
    counts = np.diff(support.indptr)
    neg_d = 2.0 * cos - 2.0
    # Shifting by the row maximum keeps exp() in range; the softmax itself is unchanged by the shift.
    weights = np.exp(neg_d - np.repeat(np.maximum.reduceat(neg_d, starts), counts))
    weights /= np.repeat(np.add.reduceat(weights, starts), counts)
    return sparse.csr_matrix((weights, support.indices, support.indptr), shape=support.shape)


def _expansion_matrix(idx: np.ndarray, k2: int, modality: np.ndarray | None) -> sparse.csr_matrix:
    """Sparse averaging matrix A with (A V)[i] = the query-expanded encoding of row i.

    Plain: the mean over the first k2 kNN entries (the sample itself included). Modality-balanced: those
    entries are averaged per modality and the two modality means averaged, so weights are 1/(2·n_m) for a
    modality with n_m entries, or 1/k2 when only one modality occurs.
    """
    n = idx.shape[0]
    cols = idx[:, :k2]
    if modality is None:
        weights = np.full(cols.shape, 1.0 / k2)
    else:
        neighbour_modality = modality[cols]
        n_infrared = neighbour_modality.sum(axis=1, keepdims=True)
        n_same = np.where(neighbour_modality == 1, n_infrared, k2 - n_infrared)
        both = (n_infrared > 0) & (n_infrared < k2)
        weights = np.where(both, 0.5 / n_same, 1.0 / k2)
    indptr = np.arange(0, n * k2 + 1, k2, dtype=np.int64)
    return sparse.csr_matrix((weights.ravel(), cols.ravel(), indptr), shape=(n, n))


def _expanded_encodings(
    features: np.ndarray | torch.Tensor, k1: int, k2: int, modality: np.ndarray | None, device: torch.device
) -> sparse.csr_matrix:
    """Query-expanded encodings V (canonical CSR, rows summing to 1). A function of its own so that the
    normalised feature copy is released before the memory-hungry overlap step."""
    x = unit_rows(features)
    list_length = min(k1, x.shape[0])
    sims, idx = exact_knn(x, list_length, normalize=False, device=device)
    v = _encodings(x, expanded_sets(idx, k1), sims, idx)
    v = _expansion_matrix(idx, min(k2, list_length), modality) @ v
    v.sum_duplicates()
    v.sort_indices()
    return v


def _checked_modality(modality: np.ndarray | torch.Tensor | None, n: int) -> np.ndarray | None:
    if modality is None:
        return None
    labels = np.asarray(modality.cpu() if isinstance(modality, torch.Tensor) else modality).astype(np.int64)
    if labels.shape != (n,) or not np.isin(labels, (0, 1)).all():
        raise ValueError(f"modality must hold 0 (visible) or 1 (infrared) for each of the {n} rows")
    return labels


def _distances(overlap: np.ndarray) -> np.ndarray:
    """float32 max(0, 1 − m/(2 − m)), computed in float64 in one reused buffer."""
    out = 2.0 - overlap
    np.divide(overlap, out, out=out)
    np.subtract(1.0, out, out=out)
    np.maximum(out, 0.0, out=out)
    return out.astype(np.float32)


def _mirrored(upper: sparse.csr_matrix) -> sparse.csr_matrix:
    """The canonical symmetric N x N CSR whose upper triangle is `upper` (canonical, every row's diagonal
    stored first).

    Assembled by hand rather than as upper + upperᵀ: sparse addition would drop the distance-0 entries that
    must stay stored. Row i of the result is row i of upperᵀ (columns <= i, diagonal last) followed by row
    i of `upper` (columns >= i, diagonal first), the two diagonals sharing one slot, so everything lands in
    place already sorted, without a merge.
    """
    n = upper.shape[0]
    upper_ptr = upper.indptr.astype(np.int64)
    lower = upper.T.tocsr()
    lower_ptr = lower.indptr.astype(np.int64)
    indptr = lower_ptr + upper_ptr - np.arange(n + 1)
    index = np.int32 if indptr[-1] < np.iinfo(np.int32).max else np.int64
    indices = np.empty(indptr[-1], dtype=index)
    data = np.empty(indptr[-1], dtype=upper.dtype)
    for part, part_start, row_start in (
        (lower, lower_ptr, indptr[:-1]),
        (upper, upper_ptr, indptr[1:] - np.diff(upper_ptr)),
    ):
        # Entry p of row i goes to row_start[i] + (p − part_start[i]).
        at = np.repeat((row_start - part_start[:-1]).astype(index), np.diff(part_start))
        at += np.arange(part.nnz, dtype=index)
        indices[at] = part.indices
        data[at] = part.data
    return sparse.csr_matrix((data, indices, indptr.astype(index)), shape=(n, n))


def jaccard_distance(
    features: np.ndarray | torch.Tensor,
    k1: int = 30,
    k2: int = 6,
    modality: np.ndarray | torch.Tensor | None = None,
    *,
    max_distance: float = 1.0,
    device: torch.device = torch.device("cpu"),
) -> sparse.csr_matrix:
    """k-reciprocal Jaccard distance between all rows of `features` (N, D), as a sparse N x N float32 CSR. The kNN
    search runs on `device` (mmm.clustering.knn); the rest on the host.

    Absent entries mean distance 1 (no shared support); every pair with distance < 1 is stored, and so is
    the diagonal, explicitly as 0, as well as any off-diagonal pair whose distance is 0. Rows are
    L2-normalised first. The algorithm is the classic dense one (docs/design.md §1.3):
    - the exact kNN list of each sample has k1 entries, the sample itself first; the forward set is that
      whole list (k1 members: the classic code searches k1 neighbours, so its `[:k1 + 1]` slice yields k1);
    - j is k-reciprocal to i when each is in the other's list; half sets do the same on the first
      round(k1/2) + 1 entries (the classic `[:round(k1/2) + 1]` slice, which the list is long enough for);
    - a candidate c in R(i) adds its half set when more than 2/3 of it lies in R(i);
    - V_i = softmax(−(2 − 2 cos)) over the expanded set;
    - k2 > 1: V_i ← mean of V_j over the first k2 kNN entries of i (self included); with `modality`
      (0 visible / 1 infrared per row) the mean is taken per modality first and the two means averaged;
    - m_ij = Σ_k min(V_ik, V_jk), distance = max(0, 1 − m/(2 − m)).
    With fewer than k1 samples the list holds all N; k2 is capped at the list length likewise.

    `max_distance` < 1 also leaves out the pairs at distance >= max_distance (absent then means "at least
    max_distance"). Most overlapping pairs overlap very little, so this shrinks the result many times over;
    DBSCAN with eps < max_distance finds exactly the same neighbours.
    """
    n = features.shape[0]
    labels = _checked_modality(modality, n)
    if k1 < 1 or k2 < 1:
        raise ValueError(f"k1 and k2 must be positive, got k1={k1}, k2={k2}")
    if not 0 < max_distance <= 1:
        raise ValueError(f"max_distance must lie in (0, 1], got {max_distance}")
    v = _expanded_encodings(features, k1, k2, labels, device)
    # At the default every overlapping pair stays, even one whose tiny overlap rounds to exactly 1 in float32.
    keep_below = max_distance if max_distance < 1 else None
    upper = pairwise_min_overlap(v, transform=_distances, keep_below=keep_below)
    # m_ii = Σ_k V_ik = 1 makes the diagonal 0 up to rounding; it is stored as exactly 0.
    upper.data[upper.indptr[:-1]] = 0.0
    log.debug("jaccard: N=%d, encoding entries %d, pairs %d", n, v.nnz, upper.nnz)
    return _mirrored(upper)
