"""k-reciprocal neighbour sets and their expansion, held as sparse 0/1 matrices built from the kNN lists.

Row i of each matrix is a set of sample indices. Everything is a sparse product or an element-wise mask over
N x (list length) entries, so nothing here grows with N squared.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

# A candidate's half set joins the expansion when more than this share of it is already reciprocal to the row.
EXPANSION_SHARE = 2 / 3


def half_list_length(k1: int, list_length: int) -> int:
    """How many leading kNN entries the half sets use: round(k1/2) neighbours after the sample itself.

    The classic code slices `initial_rank[i, :round(k1/2) + 1]` on a list that is long enough for that slice,
    so the half set counts the sample itself on top of round(k1/2) (numpy rounding: halves go to even).
    """
    return min(list_length, int(np.around(k1 / 2)) + 1)


def neighbour_matrix(idx: np.ndarray, length: int) -> sparse.csr_matrix:
    """0/1 matrix with row i holding the first `length` entries of row i's kNN list."""
    n = idx.shape[0]
    cols = idx[:, :length]
    indptr = np.arange(0, n * length + 1, length, dtype=np.int64)
    forward = sparse.csr_matrix((np.ones(cols.size, dtype=np.int32), cols.ravel(), indptr), shape=(n, n))
    forward.sort_indices()
    return forward


def reciprocal_sets(idx: np.ndarray, length: int) -> sparse.csr_matrix:
    """0/1 matrix: j is in row i when each of i and j is among the first `length` kNN entries of the other.

    Each row holds the sample itself, since every kNN list starts with it.
    """
    forward = neighbour_matrix(idx, length)
    return sparse.csr_matrix(forward.multiply(forward.T))


def expanded_sets(idx: np.ndarray, k1: int) -> sparse.csr_matrix:
    """0/1 matrix of the expanded k-reciprocal sets, with sorted column indices.

    The forward list is the whole kNN list `idx` (its k1 entries, the sample first). Row i starts as i's
    k-reciprocal set R(i); each candidate c in R(i) adds its half set H(c) when |H(c) ∩ R(i)| > 2/3 |H(c)|.
    """
    full = reciprocal_sets(idx, idx.shape[1])
    half = reciprocal_sets(idx, half_list_length(k1, idx.shape[1]))
    half_sizes = np.diff(half.indptr)
    # (R Hᵀ)[i, c] = |R(i) ∩ H(c)|; masking by R keeps only the candidates c that lie in R(i).
    shared = sparse.csr_matrix((full @ half.T).multiply(full))
    shared.sort_indices()
    accepted_mask = shared.data > EXPANSION_SHARE * half_sizes[shared.indices]
    accepted = sparse.csr_matrix((accepted_mask.astype(np.int32), shared.indices, shared.indptr), shape=shared.shape)
    accepted.eliminate_zeros()
    expanded = sparse.csr_matrix(full + accepted @ half)
    expanded.data[:] = 1
    expanded.sort_indices()
    return expanded
