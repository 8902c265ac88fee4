"""MMLM's multi-memory: n k-means sub-centres for every cluster of one modality, all clusters batched.

Labels must be contiguous, 0..C-1, with negative values for outliers (ignored); row c of the result belongs
to cluster c. A cluster with fewer than n members gets its members repeated as centres (0, 1, .., s-1, 0, ..).

Clusters are batched by size: those of similar size are padded to a common size and solved together. Padding
all clusters to the largest one would be one batch, but a single large DBSCAN cluster would then inflate the
padded copy of every cluster (800 clusters x a 1,000-member giant x 2048-d is 6.5 GB).
"""

from __future__ import annotations

import numpy as np
import torch

from mmm.matching.kmeans import batched_kmeans

KMEANS_ITERS = 15
# Clusters join a batch while their size is at most this factor above the batch's smallest size.
SIZE_RATIO = 1.5
# Upper bound on padded members per batch, which bounds the padded feature copy (8192 x 2048 floats = 64 MiB).
MAX_PADDED_ROWS = 8192


def contiguous_cluster_count(labels: torch.Tensor) -> int:
    """Number of clusters C of labels 0..C-1 (negatives ignored); raises if some id below the maximum is empty."""
    kept = labels[labels >= 0]
    if kept.numel() == 0:
        return 0
    count = int(kept.max()) + 1
    missing = int((torch.bincount(kept, minlength=count) == 0).sum())
    if missing:
        raise ValueError(
            f"cluster labels must be contiguous 0..{count - 1}; {missing} ids have no member (relabel first)"
        )
    return count


def size_batches(sizes: np.ndarray) -> list[np.ndarray]:
    """Cluster ids grouped so that sizes within a group differ by at most SIZE_RATIO and padded rows stay
    under MAX_PADDED_ROWS (a group always takes at least one cluster)."""
    order = np.argsort(sizes, kind="stable")
    groups: list[np.ndarray] = []
    start = 0
    while start < len(order):
        smallest = sizes[order[start]]
        stop = start + 1
        while stop < len(order):
            largest = sizes[order[stop]]
            if largest > smallest * SIZE_RATIO or largest * (stop + 1 - start) > MAX_PADDED_ROWS:
                break
            stop += 1
        groups.append(order[start:stop])
        start = stop
    return groups


def subcentres(
    features: torch.Tensor,
    labels: torch.Tensor | np.ndarray,
    n: int,
    iters: int = KMEANS_ITERS,
    seed: int = 0,
    restarts: int = 1,
) -> torch.Tensor:
    """k-means++ (seeded) then up to `iters` Lloyd iterations inside every cluster, the best of `restarts` such
    runs by inertia: centres [C, n, D]."""
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    labels = torch.as_tensor(labels, device=features.device).long()
    if labels.shape != (features.shape[0],):
        raise ValueError(f"labels must have shape ({features.shape[0]},), got {tuple(labels.shape)}")
    count = contiguous_cluster_count(labels)
    centres = features.new_empty(count, n, features.shape[1])
    if count == 0:
        return centres

    kept = torch.nonzero(labels >= 0).squeeze(1)
    members = kept[torch.sort(labels[kept], stable=True).indices]
    sizes = torch.bincount(labels[kept], minlength=count)
    starts = torch.cumsum(sizes, 0) - sizes
    generator = torch.Generator().manual_seed(seed)
    for group in size_batches(sizes.cpu().numpy()):
        ids = torch.as_tensor(group, device=features.device)
        group_sizes = sizes[ids]
        positions = torch.arange(int(group_sizes.max()), device=features.device)
        mask = positions.unsqueeze(0) < group_sizes.unsqueeze(1)
        # Padding slots repeat the cluster's first member; the mask keeps them out of every sum.
        slots = starts[ids].unsqueeze(1) + torch.where(mask, positions.unsqueeze(0), torch.zeros_like(positions))
        centres[ids] = batched_kmeans(features[members[slots]], mask, n, iters, generator, restarts=restarts)
    return centres
