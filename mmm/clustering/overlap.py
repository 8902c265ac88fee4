"""Pairwise min-overlap Σ_k min(v_ik, v_jk) of the rows of a sparse non-negative matrix, for every pair that
shares a column: the numerator of the k-reciprocal Jaccard distance.

Min does not distribute over sums, so no sparse product gives this. Instead every column contributes
min(v_ik, v_jk) to each pair of its rows. Rows are taken block by block; a block's contributions are
generated as flat numpy arrays (a ragged arange over column tails), summed into a (block rows x N)
accumulator with `np.add.at`, and the touched cells, found by sorting the keys, are read out and reset.
Only pairs i <= j are generated, which halves the work: Σ_k c_k (c_k + 1) / 2 contributions for column
counts c_k, about 20-30 ns each on one core. The result holds one entry per overlapping pair.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
from scipy import sparse

log = logging.getLogger(__name__)

# Contributions generated per block: the few flat arrays alive per block (1 MiB or less each) stay in cache,
# and the allocator reuses their memory from block to block.
BLOCK_CONTRIBUTIONS = 1 << 17
# Upper bound on accumulator cells (float64) per block: block rows x N stays within 4 MiB.
BLOCK_CELLS = 1 << 19


def _column_positions(v: sparse.csr_matrix, index: type[np.integer]) -> tuple[np.ndarray, ...]:
    """The column-major view of `v`: (col_indptr, col_rows, col_vals, where each row-major entry sits in it).

    Rows within a column come out ascending, which is what lets a row-major entry (i, k) find the rows
    j >= i of column k as the tail of that column from its own position on.
    """
    nnz = v.nnz
    ids = sparse.csr_matrix((np.arange(nnz, dtype=np.int64), v.indices, v.indptr), shape=v.shape).tocsc()
    order = ids.data
    position = np.empty(nnz, dtype=index)
    position[order] = np.arange(nnz, dtype=index)
    return ids.indptr.astype(index), ids.indices.astype(index), v.data[order], position


def _row_blocks(row_work: np.ndarray, max_rows: int) -> list[tuple[int, int]]:
    """Consecutive row ranges of at most `max_rows` rows whose contribution count stays within budget."""
    n = row_work.size
    cumulative = np.concatenate([[0], np.cumsum(row_work)])
    blocks = []
    start = 0
    while start < n:
        # The furthest end whose work fits; a single over-budget row still forms a block of its own.
        stop = int(np.searchsorted(cumulative, cumulative[start] + BLOCK_CONTRIBUTIONS, side="right")) - 1
        stop = min(max(stop, start + 1), start + max_rows, n)
        blocks.append((start, stop))
        start = stop
    return blocks


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    # A plain sort plus a neighbour comparison beats np.unique here by an order of magnitude.
    ordered = np.sort(keys)
    first = np.empty(ordered.size, dtype=bool)
    first[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


def pairwise_min_overlap(
    v: sparse.csr_matrix,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    keep_below: float | None = None,
) -> sparse.csr_matrix:
    """Upper triangle, diagonal included, of m_ij = Σ_k min(v_ik, v_jk) for the rows of `v` (N x N,
    non-negative, canonical CSR): a canonical CSR holding every pair i <= j that shares a column (so
    m_ij > 0). A row with any stored entry has its diagonal first in its row.

    Values are float64 m_ij, or `transform(m)` when given: applied block by block on small arrays, it saves
    a pass, and memory, over the whole result (e.g. turning overlaps into float32 distances at once).
    With `keep_below`, off-diagonal pairs whose (transformed) value is not below it are left out, block by
    block, so they never take memory.
    """
    n = v.shape[0]
    # Block-local keys stay below BLOCK_CELLS and positions below nnz, so 32-bit indices halve the traffic.
    index = np.int32 if v.nnz < np.iinfo(np.int32).max else np.int64
    indptr = v.indptr.astype(np.int64)
    entry_rows = np.repeat(np.arange(n, dtype=index), np.diff(indptr))
    col_indptr, col_rows, col_vals, position = _column_positions(v, index)
    tail_length = col_indptr[v.indices + 1] - position
    row_work = np.bincount(entry_rows, weights=tail_length, minlength=n).astype(np.int64)
    log.debug("min-overlap: %d stored entries, %d contributions", v.nnz, int(row_work.sum()))

    blocks = _row_blocks(row_work, min(n, max(1, BLOCK_CELLS // n)))
    # Zeroed once: each block resets only the cells it touched, so no pass over the whole array.
    acc = np.zeros(max(last - first for first, last in blocks) * n)
    counts = np.zeros(n, dtype=np.int64)
    out_cols, out_m = [], []
    for first, last in blocks:
        lo, hi = indptr[first], indptr[last]
        lengths = tail_length[lo:hi]
        total = int(lengths.sum())
        # Ragged arange: contribution t of entry e reads column position position[e] + t.
        pos = np.repeat(position[lo:hi] - (np.cumsum(lengths) - lengths).astype(index), lengths)
        pos += np.arange(total, dtype=index)
        keys = np.repeat((entry_rows[lo:hi] - first) * n, lengths)
        keys += col_rows[pos]
        np.add.at(acc, keys, np.minimum(np.repeat(v.data[lo:hi], lengths), col_vals[pos]))
        cells = _sorted_unique(keys)
        values = acc[cells] if transform is None else transform(acc[cells])
        acc[cells] = 0.0
        rows, cols = np.divmod(cells, n)
        if keep_below is not None:
            kept = (values < keep_below) | (rows + first == cols)
            rows, cols, values = rows[kept], cols[kept], values[kept]
        counts[first:last] = np.bincount(rows, minlength=last - first)
        out_cols.append(cols)
        out_m.append(values)
    out_indptr = np.concatenate([[0], np.cumsum(counts)])
    out_index = np.int32 if out_indptr[-1] < np.iinfo(np.int32).max else np.int64
    cols = np.concatenate(out_cols).astype(out_index, copy=False)
    overlap = sparse.csr_matrix((np.concatenate(out_m), cols, out_indptr.astype(out_index)), shape=(n, n))
    overlap.has_sorted_indices = True
    return overlap
