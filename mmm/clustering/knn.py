"""Exact k-nearest neighbours by inner product, on the run's device: the one module of the project importing faiss.

Rows are L2-normalised first, so inner product is cosine similarity and the ranking equals the Euclidean one.
The search is exact (brute force) wherever it runs:
- on the CPU, faiss's blocked BLAS kernel, with the number of OpenMP threads faiss is configured for (all cores
  unless the caller set `faiss.omp_set_num_threads`);
- on another device (a CUDA run), a blocked float32 matrix product and `torch.topk` there, through PyTorch's own
  allocator: nothing is held once the search returns, no second allocator competes with training for the GPU's
  memory, and no faiss GPU build (with its own CUDA version to match torch's) is needed. TF32 is off for the
  product, so the similarities are float32's.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Iterator

import faiss
import numpy as np
import torch

from mmm.finite import require_finite_features

log = logging.getLogger(__name__)


def _float32_rows(features: np.ndarray | torch.Tensor, copy: bool) -> np.ndarray:
    if isinstance(features, torch.Tensor):
        features = features.detach().to("cpu", torch.float32).numpy()
    if copy:
        x = np.array(features, dtype=np.float32, order="C")
    else:
        x = np.ascontiguousarray(features, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"features must be 2-D (N, D), got shape {x.shape}")
    # faiss crashes natively (a double free) on NaN rows: nothing non-finite may reach it.
    require_finite_features(x, "features for the k-nearest-neighbour search")
    return x


def unit_rows(features: np.ndarray | torch.Tensor) -> np.ndarray:
    """A C-contiguous float32 copy of `features` (N, D) with every row scaled to unit L2 norm.

    Zero rows stay zero rather than becoming NaN, so a degenerate feature cannot poison the whole search.
    """
    x = _float32_rows(features, copy=True)
    # einsum forms the squared norms without an (N, D) temporary of squares.
    norms = np.sqrt(np.einsum("ij,ij->i", x, x))[:, None]
    np.divide(x, norms, out=x, where=norms > 0)
    return x


# Similarities held at once by the device search: rows per block x all rows, at most this many (512 MB of float32).
DEVICE_BLOCK_ELEMENTS = 2**27


@contextmanager
def _float32_products() -> Iterator[None]:
    """Matrix products in full float32 (the runs' settings allow TF32, whose 10-bit mantissa would reorder near
    neighbours)."""
    allowed = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = allowed


def search_on_device(x: np.ndarray, k: int, device: torch.device) -> tuple[np.ndarray, np.ndarray]:
    """The k largest inner products of every row of `x` with all rows, by blocks of rows on `device`."""
    rows = torch.from_numpy(x).to(device)
    block = max(1, DEVICE_BLOCK_ELEMENTS // max(1, len(rows)))
    sims, idx = [], []
    with _float32_products():
        for start in range(0, len(rows), block):
            values, indices = torch.topk(rows[start : start + block] @ rows.T, k, dim=1)
            sims.append(values)
            idx.append(indices)
    return torch.cat(sims).cpu().numpy(), torch.cat(idx).cpu().numpy()


def _search(x: np.ndarray, k: int, device: torch.device) -> tuple[np.ndarray, np.ndarray]:
    if device.type == "cpu":
        # The same blocked BLAS search as IndexFlatIP.search, without first copying the rows into an index.
        sims, idx = faiss.knn(x, x, k, metric=faiss.METRIC_INNER_PRODUCT)
    else:
        sims, idx = search_on_device(x, k, device)
    return sims.astype(np.float32, copy=False), idx.astype(np.int64, copy=False)


def _put_self_first(sims: np.ndarray, idx: np.ndarray, x: np.ndarray) -> None:
    """Move each row's own index to position 0 in place.

    Duplicated or tied samples can outrank a row's own entry, or push it out of the list altogether; the
    k-reciprocal algorithm relies on the sample being its own first neighbour.
    """
    rows = np.flatnonzero(idx[:, 0] != np.arange(idx.shape[0]))
    for i in rows:
        hits = np.flatnonzero(idx[i] == i)
        # Absent self: it was tied out of the list, so the last entry makes room for it.
        stop = hits[0] if hits.size else idx.shape[1] - 1
        self_sim = sims[i, stop] if hits.size else np.float32(x[i] @ x[i])
        idx[i, 1 : stop + 1] = idx[i, :stop].copy()
        sims[i, 1 : stop + 1] = sims[i, :stop].copy()
        idx[i, 0] = i
        sims[i, 0] = self_sim
    if rows.size:
        log.debug("moved the sample itself to the front of %d kNN rows", rows.size)


def exact_knn(
    features: np.ndarray | torch.Tensor,
    k: int,
    *,
    normalize: bool = True,
    device: torch.device = torch.device("cpu"),
) -> tuple[np.ndarray, np.ndarray]:
    """Exact k nearest neighbours of every row among all rows, by cosine similarity, searched on `device`.

    Returns (sims, idx), both (N, k) on the host: sims float32 in decreasing order, idx int64, with row i's own
    index always at idx[i, 0]. `normalize=False` skips the L2 normalisation for callers that already hold
    `unit_rows(features)`.
    """
    x = unit_rows(features) if normalize else _float32_rows(features, copy=False)
    n = x.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k must lie in [1, N={n}], got {k}")
    sims, idx = _search(x, k, device)
    _put_self_first(sims, idx, x)
    return sims, idx
