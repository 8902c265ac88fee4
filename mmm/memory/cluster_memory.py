"""The cluster memory of stage A: one L2-normalised row per cluster, the ClusterNCE loss, the momentum update.

Features are L2-normalised before they meet the memory, in the loss and in the update alike, so a caller may
pass raw BN-neck features.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


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


def occurrence_rank(targets: torch.Tensor) -> torch.Tensor:
    """For each position, how many earlier positions hold the same target (0 for a target's first sample)."""
    order = torch.sort(targets, stable=True).indices
    sorted_targets = targets[order]
    positions = torch.arange(len(targets), device=targets.device)
    starts = torch.ones_like(sorted_targets, dtype=torch.bool)
    starts[1:] = sorted_targets[1:] != sorted_targets[:-1]
    # Index of the first sample of each run of equal targets, carried forward along the run.
    run_start = torch.cummax(torch.where(starts, positions, torch.zeros_like(positions)), dim=0).values
    rank = torch.empty_like(positions)
    rank[order] = positions - run_start
    return rank


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

    def loss(self, features: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """ClusterNCE: cross-entropy of the memory logits over each sample's cluster (mean over the batch)."""
        return F.cross_entropy(self.logits(features), targets.long())

    @torch.no_grad()
    def update(self, features: torch.Tensor, targets: torch.Tensor) -> None:
        """Per sample, in batch order: c <- m*c + (1-m)*f, then c <- c/|c|.

        Samples of distinct clusters commute, so the update runs in rounds: round r moves every cluster by its
        r-th sample of the batch at once. That is exactly the sequential per-sample result, repeats included,
        with as many rounds as the most repeated target has samples.
        """
        features = F.normalize(features.detach(), dim=1).to(self.features.dtype)
        targets = targets.long()
        rank = occurrence_rank(targets)
        rounds = int(rank.max()) + 1 if len(rank) else 0
        for r in range(rounds):
            chosen = rank == r
            rows = targets[chosen]
            moved = self.momentum * self.features[rows] + (1.0 - self.momentum) * features[chosen]
            self.features[rows] = F.normalize(moved, dim=1)
