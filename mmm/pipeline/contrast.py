"""Stages A and B: cluster contrast with one memory per modality, re-clustered every epoch.

Stage A (the DCL baseline) trains the two memories alone. A second stage adds a cross-modality link built each
epoch from the current features and labels: CMC's pooled clustering with a hybrid memory (stage B), or the
centroid-Hungarian matching of the baselines. The link decides what ties the modalities; the loop is shared.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Iterable, Iterator, Protocol

import numpy as np
import torch

from mmm.data.records import Modality
from mmm.data.sampler import IndexBatch, ModalityBatchSampler
from mmm.finite import require_finite_features, require_finite_losses
from mmm.memory.cluster_memory import ClusterMemory, cluster_centroids
from mmm.models.numerics import ForwardNumerics
from mmm.models.two_stream import TwoStreamNetwork
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.epoch_losses import EpochLosses, epoch_means
from mmm.pipeline.network_inputs import NetworkInputs, PreparedBatch, TrainingData
from mmm.pipeline.pseudo_labels import cluster_count, cluster_features
from mmm.pipeline.schedules import step_decay
from mmm.pipeline.seeds import seed_label, stage_seed, torch_seed

log = logging.getLogger(__name__)

# (epoch, values, pseudo-labels) after each epoch; values hold the loss and cluster counts
EpochHook = Callable[[int, dict[str, float], dict[str, np.ndarray]], None]


@dataclass(frozen=True)
class ModalityFeatures:
    visible: torch.Tensor  # [Nv, D] L2-normalised
    infrared: torch.Tensor  # [Nr, D] L2-normalised


@dataclass(frozen=True)
class EpochClusters:
    """What a link is built from: this epoch's features, per-modality labels and memories."""

    features: ModalityFeatures
    labels_v: np.ndarray
    labels_r: np.ndarray
    memory_v: ClusterMemory
    memory_r: ClusterMemory


class CrossModalityLink(Protocol):
    """A cross-modality loss for one epoch. Row indices are into the visible / infrared training rows; the
    visible rows of a batch appear twice (two views) and the indices say so."""

    # Read-only members: a link may give them as properties (CmcLink) or plain fields (CentroidMatchLink).
    @property
    def pseudo(self) -> dict[str, np.ndarray]:
        """Extra pseudo-labels for diagnostics (e.g. "pooled")."""
        ...

    @property
    def second_batch_labels(self) -> tuple[np.ndarray, np.ndarray] | None:
        """None: the loss joins the per-modality step on its batch. Otherwise (visible, infrared) labels: after
        each per-modality step, one more step on this loss alone, over a separate P×K batch drawn from these."""
        ...

    def loss(
        self, feats_v: torch.Tensor, feats_r: torch.Tensor, rows_v: np.ndarray, rows_r: np.ndarray
    ) -> torch.Tensor: ...

    def update(self, feats_v: torch.Tensor, feats_r: torch.Tensor, rows_v: np.ndarray, rows_r: np.ndarray) -> None: ...


LinkFactory = Callable[[EpochClusters, PipelineConfig], CrossModalityLink]


def extract_both(model: TwoStreamNetwork, inputs: NetworkInputs, where: str) -> ModalityFeatures:
    """Both modalities' training features, checked finite before anything clusters them; `where` names the point
    of the run in the error (e.g. "stage dcl, epoch 3")."""
    features = ModalityFeatures(inputs.features(model, Modality.VISIBLE), inputs.features(model, Modality.INFRARED))
    require_finite_features(features.visible, f"{where}: visible training features")
    require_finite_features(features.infrared, f"{where}: infrared training features")
    return features


def per_modality_labels(
    features: ModalityFeatures, config: PipelineConfig, device: torch.device
) -> tuple[np.ndarray, np.ndarray]:
    """One Jaccard + DBSCAN clustering per modality, its kNN search on `device`."""
    eps = config.resolved_eps
    labels_v = cluster_features(features.visible, config.k1, config.k2, eps, config.min_samples, device=device)
    labels_r = cluster_features(features.infrared, config.k1, config.k2, eps, config.min_samples, device=device)
    return labels_v, labels_r


def cluster_memory(
    features: torch.Tensor, labels: np.ndarray, config: PipelineConfig, device: torch.device
) -> ClusterMemory:
    centroids, _ = cluster_centroids(features, torch.from_numpy(labels))
    memory = ClusterMemory(features.shape[1], len(centroids), config.temperature, config.momentum)
    memory.initialise(centroids)
    return memory.to(device)


def train_contrast_stage(
    model: TwoStreamNetwork,
    data: TrainingData,
    config: PipelineConfig,
    stage: str,
    epochs: int,
    iters: int,
    numerics: ForwardNumerics,
    on_epoch: EpochHook,
    link_factory: LinkFactory | None = None,
) -> None:
    """Train `model` in place for `epochs` epochs of `iters` steps on `numerics.device`; `stage` names it in logs
    and seeds."""
    optimizer = torch.optim.Adam(
        [p for p in model.parameters() if p.requires_grad], lr=config.lr, weight_decay=config.weight_decay
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, step_decay(config.step_size))
    inputs = data.inputs(
        config.pad, torch.Generator().manual_seed(torch_seed(config.seed, seed_label(stage))), numerics
    )
    device = numerics.device
    for epoch in range(epochs):
        features = extract_both(model, inputs, f"stage {stage}, epoch {epoch + 1}")
        labels_v, labels_r = per_modality_labels(features, config, device)
        clusters = EpochClusters(
            features,
            labels_v,
            labels_r,
            cluster_memory(features.visible, labels_v, config, device),
            cluster_memory(features.infrared, labels_r, config, device),
        )
        link = link_factory(clusters, config) if link_factory is not None else None
        cameras = data.images.cameras() if config.camera_aware else None
        label = seed_label(stage)
        sampler = ModalityBatchSampler(
            labels_v,
            labels_r,
            config.batch_p,
            config.batch_k,
            iters,
            seed=stage_seed(config.seed, label, epoch),
            cameras=cameras,
        )
        second = _second_batches(link, config, iters, stage_seed(config.seed, label + "-link", epoch), cameras)
        model.train()
        losses = EpochLosses()
        joint_link = link if second is None else None
        schedule = _schedule(sampler, second)
        for (own_batch, _), batch in zip(schedule, inputs.stream(indices for _, indices in schedule)):
            if not own_batch:
                losses.add({"loss": _contrast_step(model, inputs, optimizer, clusters, joint_link, batch)})
            elif link is not None:
                losses.add({"link_step": _link_step(model, inputs, optimizer, link, batch)})
        scheduler.step()
        per_step = losses.read()
        require_finite_losses(per_step, stage, epoch)
        values = {
            "loss": epoch_means(per_step, iters).get("loss", 0.0),
            "clusters_visible": cluster_count(labels_v),
            "clusters_infrared": cluster_count(labels_r),
        }
        pseudo = {"visible": labels_v, "infrared": labels_r, **(link.pseudo if link is not None else {})}
        log.info("stage %s epoch %d/%d: %s", stage, epoch + 1, epochs, values)
        on_epoch(epoch, values, pseudo)


def _schedule(sampler: Iterable[IndexBatch], second: Iterator[IndexBatch] | None) -> list[tuple[bool, IndexBatch]]:
    """An epoch's batches in training order, each marked True when it is the link's own batch: every step's batch,
    followed, when the link draws its own, by the link's."""
    schedule = []
    for batch in sampler:
        schedule.append((False, batch))
        if second is not None:
            schedule.append((True, next(second)))
    return schedule


def _contrast_step(
    model: TwoStreamNetwork,
    inputs: NetworkInputs,
    optimizer: torch.optim.Optimizer,
    clusters: EpochClusters,
    joint_link: CrossModalityLink | None,
    batch: PreparedBatch,
) -> torch.Tensor:
    """One step on the two memories' ClusterNCE plus, when given, the loss of a link that takes no batches of its
    own; then the memory updates. The loss, detached, on the device (reading it would wait for the step)."""
    rows_v = np.r_[batch.index_v, batch.index_v]
    targets_v = clusters.labels_v[rows_v]
    targets_r = clusters.labels_r[batch.index_r]
    feats_v, feats_r = _forward(model, inputs, batch)
    loss = clusters.memory_v.loss(feats_v, targets_v) + clusters.memory_r.loss(feats_r, targets_r)
    if joint_link is not None:
        loss = loss + joint_link.loss(feats_v, feats_r, rows_v, batch.index_r)
    _step(optimizer, loss)
    clusters.memory_v.update(feats_v.detach(), targets_v)
    clusters.memory_r.update(feats_r.detach(), targets_r)
    if joint_link is not None:
        joint_link.update(feats_v.detach(), feats_r.detach(), rows_v, batch.index_r)
    return loss.detach()


def _link_step(
    model: TwoStreamNetwork,
    inputs: NetworkInputs,
    optimizer: torch.optim.Optimizer,
    link: CrossModalityLink,
    batch: PreparedBatch,
) -> torch.Tensor:
    """The link's own step on its own batch (CMC's second step over hybrid clusters), then its memory update. Its
    loss, detached, on the device (checked once per epoch with the others)."""
    rows_v = np.r_[batch.index_v, batch.index_v]
    feats_v, feats_r = _forward(model, inputs, batch)
    loss = link.loss(feats_v, feats_r, rows_v, batch.index_r)
    _step(optimizer, loss)
    link.update(feats_v.detach(), feats_r.detach(), rows_v, batch.index_r)
    return loss.detach()


def _second_batches(
    link: CrossModalityLink | None,
    config: PipelineConfig,
    iters: int,
    seed: tuple[int, ...],
    cameras: tuple[np.ndarray, np.ndarray] | None,
) -> Iterator[IndexBatch] | None:
    """The link's own batches, one per step, when it asks for them and has clusters in both modalities to draw
    from; None otherwise (its loss then joins the per-modality step)."""
    if link is None or link.second_batch_labels is None:
        return None
    labels_v, labels_r = link.second_batch_labels
    if not ((labels_v >= 0).any() and (labels_r >= 0).any()):
        log.warning("no cross-modality cluster to draw the link's batch from; its loss joins the main step")
        return None
    return iter(
        ModalityBatchSampler(labels_v, labels_r, config.batch_p, config.batch_k, iters, seed=seed, cameras=cameras)
    )


def _forward(model: TwoStreamNetwork, inputs: NetworkInputs, batch: PreparedBatch) -> tuple[torch.Tensor, torch.Tensor]:
    """BN-neck features of the visible rows (two views) and of the infrared rows of a batch."""
    _, bn = inputs.forward_prepared(model, batch)
    return bn[: 2 * len(batch.index_v)], bn[2 * len(batch.index_v) :]


def _step(optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
