"""Stage C, SCA: training on the fixed matched labels with confidence-weighted cross-entropy, batch-hard triplet,
and the soft cluster-level alignment terms L_intra and L_inter."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from mmm.alignment.confidence import gmm_confidence
from mmm.alignment.prototypes import weighted_prototypes
from mmm.alignment.sca import SCAWeights, sca_losses
from mmm.data.records import Modality
from mmm.data.sampler import IdentityBalancedSampler
from mmm.models.two_stream import TwoStreamNetwork
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.network_inputs import NetworkInputs, TrainingData
from mmm.pipeline.schedules import warmup_multistep
from mmm.pipeline.seeds import stage_seed, torch_seed

log = logging.getLogger(__name__)

EpochHook = Callable[[int, dict[str, float]], None]


@dataclass(frozen=True)
class MatchedLabels:
    visible: np.ndarray  # [Nv] infrared-space label of each visible sample after transfer, -1 = dropped
    infrared: np.ndarray  # [Nr] infrared cluster label, -1 = outlier

    @property
    def num_classes(self) -> int:
        return int(max(self.visible.max(), self.infrared.max())) + 1


@dataclass
class _SampleState:
    """Per-sample confidence and per-class prototypes of one modality, refreshed each epoch."""

    weights: torch.Tensor
    prototypes: torch.Tensor | None


def train_alignment_stage(
    model: TwoStreamNetwork,
    data: TrainingData,
    labels: MatchedLabels,
    config: PipelineConfig,
    device: torch.device,
    on_epoch: EpochHook,
) -> None:
    """Stage C trained in place on `model`."""
    num_classes = labels.num_classes
    # The head draws from its own seeded stream: the global RNG's state depends on whether stages A/B ran or
    # came from the stage store, and a cached run must end with the same weights as a computed one.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(torch_seed(config.seed, "C-head"))
        classifier = torch.nn.Linear(model.feature_dim, num_classes, bias=False).to(device)
    optimizer = torch.optim.SGD(
        [
            {"params": [p for p in model.parameters() if p.requires_grad], "lr": config.lr_backbone},
            {"params": list(classifier.parameters()), "lr": config.lr_head},
        ],
        momentum=0.9,
        nesterov=True,
        weight_decay=5e-4,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_multistep(config.warmup_epochs, config.milestones))
    inputs = data.inputs(config.pad, torch.Generator().manual_seed(torch_seed(config.seed, "C")), device)
    targets_v = torch.from_numpy(labels.visible)
    targets_r = torch.from_numpy(labels.infrared)
    for epoch in range(config.epochs_c):
        sca_on = epoch >= config.plain_ce_epochs
        use_confidence = sca_on and config.resolved_confidence
        use_intra = sca_on and config.intra and config.lambda_intra > 0
        use_inter = sca_on and config.inter and config.lambda_inter > 0 and epoch >= config.inter_start_epoch
        states = {
            Modality.VISIBLE: _SampleState(torch.ones(len(labels.visible)), None),
            Modality.INFRARED: _SampleState(torch.ones(len(labels.infrared)), None),
        }
        if use_confidence or use_intra:
            for modality, targets in ((Modality.VISIBLE, targets_v), (Modality.INFRARED, targets_r)):
                states[modality] = _sample_state(
                    model, classifier, inputs, modality, targets, num_classes, use_confidence, use_intra,
                    config.seed + epoch,
                )
        term_weights = SCAWeights(
            ce=1.0, triplet=1.0, intra=config.lambda_intra if use_intra else 0.0,
            inter=config.lambda_inter if use_inter else 0.0,
        )
        prototypes = (
            (states[Modality.VISIBLE].prototypes.to(device), states[Modality.INFRARED].prototypes.to(device))
            if use_intra else None
        )
        sampler = IdentityBalancedSampler(
            labels.visible, labels.infrared, config.batch_p_c, config.batch_k_c, config.iters_c,
            seed=stage_seed(config.seed, "C", epoch),
        )
        model.train()
        sums: dict[str, float] = {}
        for index_v, index_r in sampler:
            _, bn = inputs.forward_batch(model, index_v, index_r)
            y_v = targets_v[index_v].repeat(2).to(device)
            y_r = targets_r[index_r].to(device)
            y = torch.cat([y_v, y_r])
            confidence = torch.cat([
                states[Modality.VISIBLE].weights[index_v].repeat(2),
                states[Modality.INFRARED].weights[index_r],
            ]).to(device) if use_confidence else None
            modalities = torch.cat([
                torch.full((len(y_v),), int(Modality.VISIBLE)), torch.full((len(y_r),), int(Modality.INFRARED))
            ]).to(device)
            terms = sca_losses(
                classifier(bn), F.normalize(bn, dim=1), y, modalities, term_weights,
                confidence=confidence, prototypes=prototypes, intra_distance=config.intra_distance,
                margin=config.triplet_margin,
            )
            loss = sum(terms.values())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            for name, value in terms.items():
                sums[name] = sums.get(name, 0.0) + float(value.detach()) / config.iters_c
        scheduler.step()
        sums["loss"] = sum(sums.values())
        log.info("stage C epoch %d/%d: %s", epoch + 1, config.epochs_c, sums)
        on_epoch(epoch, sums)


@torch.no_grad()
def _sample_state(
    model: TwoStreamNetwork,
    classifier: torch.nn.Linear,
    inputs: NetworkInputs,
    modality: Modality,
    targets: torch.Tensor,
    num_classes: int,
    use_confidence: bool,
    use_prototypes: bool,
    seed: int,
) -> _SampleState:
    """Per-sample CE of the un-augmented images -> GMM confidence; confidence-weighted class prototypes."""
    bn = inputs.plain_features(model, modality)
    weight = classifier.weight.detach().cpu()
    losses = F.cross_entropy(bn @ weight.T, targets.clamp(min=0), reduction="none")
    features_all = F.normalize(bn, dim=1)
    valid = targets >= 0
    weights = torch.ones(len(targets))
    if use_confidence:
        weights[valid] = torch.as_tensor(gmm_confidence(losses[valid].numpy(), seed=seed), dtype=torch.float32)
    weights[~valid] = 0.0
    prototypes = None
    if use_prototypes:
        prototypes = weighted_prototypes(features_all[valid], targets[valid], weights[valid], num_classes)
    return _SampleState(weights, prototypes)
