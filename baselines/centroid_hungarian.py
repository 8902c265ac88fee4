"""The centroid-Hungarian baseline, PGM-like but not PGM: after stage A, every epoch matches the visible and
infrared cluster centroids one-to-one in a single Hungarian round and adds a cross-modality memory loss — each
sample is also contrasted against the other modality's memory, with its matched cluster as the target. Clusters
left unmatched get no cross-modality target. PGM's progressive graph matching and its alternating
cross-contrastive learning are not here; the name `pgm` is kept free for a faithful implementation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from mmm.choices import Stage
from mmm.host_to_device import to_device
from mmm.memory.cluster_memory import ClusterMemory
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.contrast import EpochClusters
from mmm.pipeline.hooks import Diagnose, ProgressCallback, StageStore
from mmm.pipeline.result import RunResult
from mmm.pipeline.run import SecondStage, run_stages
from mmm.pipeline.tasks import Task


@dataclass
class CentroidMatchLink:
    """Cross-modality targets from a one-to-one centroid matching; -1 where a cluster has no partner."""

    cross_v: np.ndarray  # per visible row: the infrared cluster matched to its cluster, or -1
    cross_r: np.ndarray  # per infrared row: the visible cluster matched to its cluster, or -1
    memory_v: ClusterMemory
    memory_r: ClusterMemory
    second_batch_labels: None = None  # the matching loss joins the per-modality step

    @property
    def pseudo(self) -> dict[str, np.ndarray]:
        return {"matched_visible": self.cross_v}

    def loss(
        self, feats_v: torch.Tensor, feats_r: torch.Tensor, rows_v: np.ndarray, rows_r: np.ndarray
    ) -> torch.Tensor:
        total = feats_v.sum() * 0.0
        for feats, targets, memory in (
            (feats_v, self.cross_v[rows_v], self.memory_r),
            (feats_r, self.cross_r[rows_r], self.memory_v),
        ):
            kept = np.flatnonzero(targets >= 0)
            if len(kept):
                total = total + memory.loss(feats[to_device(kept, feats.device)], targets[kept])
        return total

    def update(self, feats_v: torch.Tensor, feats_r: torch.Tensor, rows_v: np.ndarray, rows_r: np.ndarray) -> None:
        # The per-modality memories are moved by the shared loop; the link owns no memory of its own.
        return None


def centroid_match_link(clusters: EpochClusters, config: PipelineConfig) -> CentroidMatchLink:
    """Hungarian matching of the memory rows (cluster centroids) of the two modalities, one-to-one."""
    rows_v = clusters.memory_v.features.detach().cpu()
    rows_r = clusters.memory_r.features.detach().cpu()
    cost = torch.cdist(rows_v, rows_r).numpy()
    # One-to-one only: with more clusters on one side, the left-over ones get no cross-modality target.
    matched_v, matched_r = linear_sum_assignment(cost)
    one_to_one = np.full(rows_v.shape[0], -1, dtype=np.int64)
    one_to_one[matched_v] = matched_r
    inverse = np.full(rows_r.shape[0], -1, dtype=np.int64)
    inverse[matched_r] = matched_v
    cross_v = np.where(clusters.labels_v >= 0, one_to_one[clusters.labels_v.clip(min=0)], -1)
    cross_r = np.where(clusters.labels_r >= 0, inverse[clusters.labels_r.clip(min=0)], -1)
    return CentroidMatchLink(cross_v, cross_r, clusters.memory_v, clusters.memory_r)


CENTROID_HUNGARIAN_STAGE = SecondStage(Stage.CENTROID_HUNGARIAN, centroid_match_link, {"link": "centroid-hungarian"})


def run_centroid_hungarian(
    config: PipelineConfig,
    task: Task,
    *,
    device: torch.device,
    cache_dir: Path,
    store: StageStore | None = None,
    on_progress: ProgressCallback | None = None,
    diagnose: Diagnose | None = None,
) -> RunResult:
    """Stage A, then `epochs_b` epochs of per-modality + centroid-matched cross-modality contrast; evaluated
    without MMLM or stage C. A Method (mmm.pipeline.method)."""
    return run_stages(
        config,
        task,
        second=CENTROID_HUNGARIAN_STAGE,
        align=False,
        device=device,
        cache_dir=cache_dir,
        store=store,
        on_progress=on_progress,
        diagnose=diagnose,
    )
