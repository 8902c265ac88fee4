"""CMC's hybrid memory: one row per pooled (cross-modality) cluster, trained only by clusters of both modalities.

Pooled labels are expected contiguous, 0..C-1, with -1 for outliers. Modalities are 0 (visible) and 1 (infrared),
the values of mmm.data.records.Modality.

Clusters holding a single modality keep their row: it stays in the softmax as a negative for every sample, but
samples of such a cluster add nothing to the loss and never move its row.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from mmm.data.records import Modality
from mmm.host_to_device import to_device
from mmm.memory.cluster_memory import ClusterMemory, host_labels


def hybrid_centroids(
    features: torch.Tensor,
    labels: torch.Tensor | np.ndarray,
    modalities: torch.Tensor | np.ndarray,
    num_clusters: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per pooled cluster, the normalised mean of (visible-member mean, infrared-member mean), or the one mean
    present. Returns (centroids [C, D], mixed [C] bool: the cluster holds both modalities)."""
    labels = torch.as_tensor(labels, device=features.device).long()
    modalities = torch.as_tensor(modalities, device=features.device).long()
    kept = labels >= 0
    if kept.any() and int(labels[kept].max()) >= num_clusters:
        raise ValueError(f"labels reach {int(labels[kept].max())} but num_clusters is {num_clusters}")
    means = []
    present = []
    for modality in Modality:
        chosen = kept & (modalities == modality)
        sums = torch.zeros(num_clusters, features.shape[1], dtype=features.dtype, device=features.device)
        sums.index_add_(0, labels[chosen], features[chosen])
        counts = torch.bincount(labels[chosen], minlength=num_clusters).to(features.dtype)
        means.append(sums / counts.clamp_min(1).unsqueeze(1))
        present.append(counts > 0)
    both = present[0] & present[1]
    # An absent modality contributes a zero mean, so dividing by the number present averages what exists.
    n_present = (present[0].to(features.dtype) + present[1].to(features.dtype)).clamp_min(1)
    centroids = (means[0] + means[1]) / n_present.unsqueeze(1)
    return F.normalize(centroids, dim=1), both


class HybridMemory(ClusterMemory):
    """A ClusterMemory over pooled clusters whose loss and update skip clusters of a single modality.

    Which clusters train is kept on the host (`mixed`), and targets are given as host labels, so choosing a batch's
    samples never waits for the device.
    """

    def __init__(self, num_features: int, num_clusters: int, temperature: float = 0.05, momentum: float = 0.1) -> None:
        super().__init__(num_features, num_clusters, temperature, momentum)
        # Every row trains until initialise_from_members says otherwise, so plain initialise() behaves as the parent.
        self.mixed = np.ones(num_clusters, dtype=bool)  # [num_clusters]: the cluster holds both modalities

    def initialise_from_members(
        self,
        features: torch.Tensor,
        labels: torch.Tensor | np.ndarray,
        modalities: torch.Tensor | np.ndarray,
    ) -> None:
        """Rows from hybrid_centroids, and the mask of clusters allowed to train."""
        centroids, mixed = hybrid_centroids(features, labels, modalities, self.num_clusters)
        self.initialise(centroids)
        self.mixed = mixed.cpu().numpy()

    def _trained(self, targets: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """(positions in the batch whose cluster holds both modalities, their labels), from host labels."""
        labels = host_labels(targets)
        positions = np.flatnonzero(self.mixed[labels])
        return positions, labels[positions]

    def loss(self, features: torch.Tensor, targets: np.ndarray | torch.Tensor) -> torch.Tensor:
        """ClusterNCE averaged over the samples whose cluster holds both modalities; zero when there are none."""
        positions, labels = self._trained(targets)
        if not len(positions):
            # Zero that still belongs to the graph, so a caller's backward() on a sum of terms keeps working.
            return features.sum() * 0.0
        return super().loss(features[to_device(positions, features.device)], labels)

    @torch.no_grad()
    def update(self, features: torch.Tensor, targets: np.ndarray | torch.Tensor) -> None:
        """The parent's momentum update, restricted to samples of mixed clusters."""
        positions, labels = self._trained(targets)
        super().update(features[to_device(positions, features.device)], labels)
