"""The cluster memory of stage A: one L2-normalised row per cluster, the ClusterNCE loss, the momentum update.

Features are L2-normalised before they meet the memory, in the loss and in the update alike, so a caller may
pass raw BN-neck features.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmm.host_to_device import to_device


def cluster_centroids(features: torch.Tensor, labels: torch.Tensor | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """L2-normalised mean feature of every cluster, outliers (label < 0) ignored.

    Returns (centroids [C, D], cluster ids [C]) with the ids sorted ascending; row k belongs to ids[k], so with
    contiguous labels 0..C-1 row k is cluster k.
    """
    labels = torch.as_tensor(labels, device=features.device).long()
    kept = labels >= 0
    ids, inverse = torch.unique(labels[kept], return_inverse=True)
    sums = torch.zeros(len(ids), features.shape[1], dtype=features.dtype, device=features.device)
    sums.index_add_(0, inverse, features[kept])
    # Normalising the sum gives the same direction as normalising the mean.
    return F.normalize(sums, dim=1), ids


def occurrence_rank(targets: np.ndarray) -> np.ndarray:
    """For each position, how many earlier positions hold the same target (0 for a target's first sample)."""
    order = np.argsort(targets, kind="stable")
    sorted_targets = targets[order]
    positions = np.arange(len(targets))
    starts = np.ones(len(targets), dtype=bool)
    starts[1:] = sorted_targets[1:] != sorted_targets[:-1]
    # Index of the first sample of each run of equal targets, carried forward along the run.
    run_start = np.maximum.accumulate(np.where(starts, positions, 0))
    rank = np.empty_like(positions)
    rank[order] = positions - run_start
    return rank


def update_rounds(targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The order of a batch's memory update: (positions sorted by round, then by batch order; the bounds of each
    round in that order). Round r holds every target's r-th sample of the batch, so no round repeats a target."""
    rank = occurrence_rank(targets)
    order = np.lexsort((np.arange(len(targets)), rank))
    bounds = np.searchsorted(rank[order], np.arange(int(rank.max()) + 2 if len(rank) else 1))
    return order, bounds


def host_labels(targets: np.ndarray | torch.Tensor) -> np.ndarray:
    """Cluster ids as an int64 host array (a tensor on a device is read back: pass host labels to avoid that)."""
    if isinstance(targets, torch.Tensor):
        return targets.detach().cpu().numpy().astype(np.int64, copy=False)
    return np.asarray(targets, dtype=np.int64)


class ClusterMemory(nn.Module):
    """One L2-normalised row per cluster, read by ClusterNCE and moved toward its samples after each step.

    The rows are a buffer, not a parameter: the optimiser never touches them, only `update` does.
    """

    features: torch.Tensor  # [num_clusters, num_features] buffer, registered in __init__

    def __init__(self, num_features: int, num_clusters: int, temperature: float = 0.05, momentum: float = 0.1) -> None:
        super().__init__()
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must lie in [0, 1], got {momentum}")
        self.num_features = num_features
        self.num_clusters = num_clusters
        self.temperature = temperature
        self.momentum = momentum
        self.register_buffer("features", torch.zeros(num_clusters, num_features))

    def initialise(self, centroids: torch.Tensor) -> None:
        """Load the rows (normalised here, so plain cluster means are fine)."""
        expected = (self.num_clusters, self.num_features)
        if tuple(centroids.shape) != expected:
            raise ValueError(f"centroids must have shape {expected}, got {tuple(centroids.shape)}")
        self.features.copy_(F.normalize(centroids.detach(), dim=1))

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        """Similarity of each normalised feature to every row, divided by the temperature: [B, C]."""
        return F.normalize(features, dim=1) @ self.features.t() / self.temperature

    def loss(self, features: torch.Tensor, targets: np.ndarray | torch.Tensor) -> torch.Tensor:
        """ClusterNCE: cross-entropy of the memory logits over each sample's cluster (mean over the batch)."""
        return F.cross_entropy(self.logits(features), to_device(targets, features.device).long())

    @torch.no_grad()
    def update(self, features: torch.Tensor, targets: np.ndarray | torch.Tensor) -> None:
        """Per sample, in batch order: c <- m*c + (1-m)*f, then c <- c/|c|.

        Samples of distinct clusters commute, so the update runs in rounds: round r moves every cluster by its
        r-th sample of the batch at once. That is exactly the sequential per-sample result, repeats included,
        with as many rounds as the most repeated target has samples. The rounds are planned from host labels
        (`targets` as a numpy array), so the device is never waited for.
        """
        labels = host_labels(targets)
        if not len(labels):
            return
        order, bounds = update_rounds(labels)
        device = self.features.device
        features = F.normalize(features.detach(), dim=1).to(self.features.dtype)[to_device(order, device)]
        rows = to_device(labels[order], device)
        for start, stop in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
            chosen = rows[start:stop]
            moved = self.momentum * self.features[chosen] + (1.0 - self.momentum) * features[start:stop]
            self.features[chosen] = F.normalize(moved, dim=1)
