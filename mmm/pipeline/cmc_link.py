"""CMC's cross-modality link (stage B): a pooled, modality-balanced clustering of both modalities and a hybrid
memory trained by the pooled clusters that hold both modalities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mmm.host_to_device import to_device
from mmm.memory.hybrid_memory import HybridMemory
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.contrast import EpochClusters
from mmm.pipeline.pseudo_labels import cluster_count, cluster_features


@dataclass
class CmcLink:
    pooled: np.ndarray  # pooled label per row: visible rows first, then infrared rows (-1 = outlier)
    memory: HybridMemory
    hybrid_batch: bool  # L_VR in its own step over batches drawn from the pooled clusters (the release)
    num_visible: int

    @property
    def pseudo(self) -> dict[str, np.ndarray]:
        return {"pooled": self.pooled}

    @property
    def second_batch_labels(self) -> tuple[np.ndarray, np.ndarray] | None:
        if not self.hybrid_batch:
            return None
        return self.pooled[: self.num_visible], self.pooled[self.num_visible :]

    def _targets(self, rows_v: np.ndarray, rows_r: np.ndarray) -> np.ndarray:
        return np.r_[self.pooled[rows_v], self.pooled[self.num_visible + rows_r]]

    def _kept(
        self, feats_v: torch.Tensor, feats_r: torch.Tensor, rows_v: np.ndarray, rows_r: np.ndarray
    ) -> tuple[torch.Tensor, torch.Tensor, np.ndarray]:
        """The batch's features and pooled labels without the outliers, chosen from the host labels."""
        targets = self._targets(rows_v, rows_r)
        kept = np.flatnonzero(targets >= 0)
        features = torch.cat([feats_v, feats_r])
        return features, features[to_device(kept, features.device)], targets[kept]

    def loss(
        self, feats_v: torch.Tensor, feats_r: torch.Tensor, rows_v: np.ndarray, rows_r: np.ndarray
    ) -> torch.Tensor:
        features, kept, targets = self._kept(feats_v, feats_r, rows_v, rows_r)
        if not len(targets):
            return features.sum() * 0.0
        return self.memory.loss(kept, targets)

    def update(self, feats_v: torch.Tensor, feats_r: torch.Tensor, rows_v: np.ndarray, rows_r: np.ndarray) -> None:
        _, kept, targets = self._kept(feats_v, feats_r, rows_v, rows_r)
        self.memory.update(kept, targets)


def cmc_link(clusters: EpochClusters, config: PipelineConfig) -> CmcLink:
    """Cluster the pooled set with the modality-balanced Jaccard distance and build the hybrid memory."""
    pooled_features = torch.cat([clusters.features.visible, clusters.features.infrared])
    num_visible = len(clusters.features.visible)
    modality = np.r_[np.zeros(num_visible, np.int64), np.ones(len(clusters.features.infrared), np.int64)]
    device = clusters.memory_v.features.device
    pooled = cluster_features(
        pooled_features,
        config.resolved_k1_cross,
        config.resolved_k2_cross,
        config.resolved_eps,
        config.min_samples,
        modality=modality,
        device=device,
    )
    memory = HybridMemory(pooled_features.shape[1], max(cluster_count(pooled), 1), config.temperature, config.momentum)
    if cluster_count(pooled):
        memory.initialise_from_members(pooled_features, pooled, modality)
    hybrid_batch = config.cmc_second_step == "hybrid_batch"
    return CmcLink(pooled, memory.to(device), hybrid_batch, num_visible)
