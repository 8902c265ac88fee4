"""Pseudo-labels from features: k-reciprocal Jaccard distance, then DBSCAN (outliers are -1)."""

from __future__ import annotations

import numpy as np
import torch

from mmm.clustering.dbscan import dbscan_labels
from mmm.clustering.jaccard import jaccard_distance


def cluster_features(
    features: torch.Tensor,
    k1: int,
    k2: int,
    eps: float,
    min_samples: int,
    modality: np.ndarray | None = None,
    device: torch.device = torch.device("cpu"),
) -> np.ndarray:
    """DBSCAN labels (0..C-1, -1 = outlier) of L2-normalised features; modality-balanced when `modality` given. The
    kNN search runs on `device`, the run's."""
    k1 = min(k1, len(features) - 1)
    # DBSCAN never reads a pair beyond eps; dropping them keeps the sparse matrix small when clusters are
    # smaller than k1 (otherwise nearly every pair overlaps a little and the matrix turns dense).
    # The clustering runs on the host: features on a device, or still attached to a graph, are read back first.
    distance = jaccard_distance(
        features.detach().cpu().numpy(),
        k1=k1,
        k2=min(k2, k1),
        modality=modality,
        max_distance=min(1.0, eps + 0.05),
        device=device,
    )
    return dbscan_labels(distance, eps=eps, min_samples=min_samples)


def cluster_count(labels: np.ndarray) -> int:
    return int(labels.max()) + 1 if labels.size and labels.max() >= 0 else 0
