"""Stage C, SCA: training on the fixed matched labels with confidence-weighted cross-entropy, batch-hard triplet,
and the soft cluster-level alignment terms L_intra and L_inter.

Each epoch first refreshes the sample states (mmm.pipeline.sample_states: confidences and prototypes), then takes
its steps; every step's loss is mmm.alignment.sca_losses. The first `plain_ce_epochs` epochs train plain CE alone.
"""

from __future__ import annotations

import logging
import operator
from dataclasses import dataclass
from functools import reduce
from typing import Callable

import numpy as np
import torch

from mmm.alignment.sca import SCAForm, SCAWeights, sca_losses
from mmm.alignment.views import View, batch_views
from mmm.choices import Stage
from mmm.data.records import Modality
from mmm.data.sampler import AllImagesSampler, IdentityBalancedSampler
from mmm.finite import require_finite_losses
from mmm.host_to_device import to_device
from mmm.models.numerics import ForwardNumerics
from mmm.models.two_stream import TwoStreamNetwork
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.epoch_losses import EpochLosses, epoch_means
from mmm.pipeline.network_inputs import NetworkInputs, PreparedBatch, TrainingData
from mmm.pipeline.sample_states import epoch_states, loss_features
from mmm.pipeline.schedules import warmup_multistep
from mmm.pipeline.seeds import seed_label, stage_seed, torch_seed

log = logging.getLogger(__name__)

EpochHook = Callable[[int, dict[str, float]], None]
# Release main.py: the classifier's weights start from N(0, 0.001).
CLASSIFIER_INIT_STD = 0.001


@dataclass(frozen=True)
class MatchedLabels:
    visible: np.ndarray  # [Nv] infrared-space label of each visible sample after transfer, -1 = dropped
    infrared: np.ndarray  # [Nr] infrared cluster label, -1 = outlier

    @property
    def num_classes(self) -> int:
        return int(max(self.visible.max(), self.infrared.max())) + 1

    def targets(self) -> dict[Modality, torch.Tensor]:
        return {Modality.VISIBLE: torch.from_numpy(self.visible), Modality.INFRARED: torch.from_numpy(self.infrared)}


@dataclass(frozen=True)
class EpochPlan:
    """What one stage-C epoch trains: its term weights, and whether it needs confidences and prototypes."""

    weights: SCAWeights
    confidence: bool
    prototypes: bool

    @classmethod
    def of(cls, config: PipelineConfig, epoch: int) -> "EpochPlan":
        if epoch < config.plain_ce_epochs:
            return cls(SCAWeights(ce=1.0, triplet=0.0, intra=0.0, inter=0.0), confidence=False, prototypes=False)
        intra = config.intra and config.lambda_intra > 0
        inter = config.inter and config.lambda_inter > 0 and epoch >= config.inter_start_epoch
        weights = SCAWeights(
            ce=1.0,
            triplet=1.0,
            intra=config.lambda_intra if intra else 0.0,
            inter=config.lambda_inter if inter else 0.0,
        )
        return cls(weights, confidence=config.resolved_confidence, prototypes=intra)


def sca_form(config: PipelineConfig) -> SCAForm:
    return SCAForm(
        intra_distance=config.intra_distance,
        intra_confidence=config.intra_confidence,
        intra_reduction=config.intra_reduction,
        inter_form=config.inter_form,
        margin=config.triplet_margin,
    )


def new_classifier(model: TwoStreamNetwork, num_classes: int, config: PipelineConfig) -> torch.nn.Linear:
    """The identity classifier over the matched label space, from its own seeded stream: the global RNG's state
    depends on whether earlier stages ran or came from the stage store, and both must end with the same weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(torch_seed(config.seed, seed_label("sca") + "-head"))
        classifier = torch.nn.Linear(model.feature_dim, num_classes, bias=False)
        if config.classifier_init == "normal":
            torch.nn.init.normal_(classifier.weight, 0.0, CLASSIFIER_INIT_STD)
    return classifier


def _optimizer(model: TwoStreamNetwork, classifier: torch.nn.Linear, config: PipelineConfig) -> torch.optim.SGD:
    neck = {id(p) for p in model.neck.parameters()} if config.neck_lr == "head" else set()
    backbone = [p for p in model.parameters() if p.requires_grad and id(p) not in neck]
    head = [p for p in model.neck.parameters() if id(p) in neck] + list(classifier.parameters())
    return torch.optim.SGD(
        [{"params": backbone, "lr": config.lr_backbone}, {"params": head, "lr": config.lr_head}],
        momentum=0.9,
        nesterov=True,
        weight_decay=5e-4,
    )


def steps_per_epoch(labels: MatchedLabels, config: PipelineConfig) -> int:
    """iters_c, or one pass over the labelled rows of the larger modality in P×K batches (release)."""
    if config.epoch_length_c == "iterations":
        return config.iters_c
    labelled = max(int((labels.visible >= 0).sum()), int((labels.infrared >= 0).sum()))
    return max(1, labelled // (config.batch_p_c * config.batch_k_c))


def epoch_sampler(
    labels: MatchedLabels, config: PipelineConfig, steps: int, epoch: int
) -> IdentityBalancedSampler | AllImagesSampler:
    """The batches of one stage-C epoch: P identities × K images per modality, or during the plain-CE warm-up,
    when the config says so, every labelled image of each modality in shuffled order (the release's)."""
    seed = stage_seed(config.seed, seed_label("sca"), epoch)
    if epoch < config.plain_ce_epochs and config.warmup_sampler == "all_images":
        return AllImagesSampler(labels.visible, labels.infrared, config.batch_p_c * config.batch_k_c, steps, seed)
    return IdentityBalancedSampler(labels.visible, labels.infrared, config.batch_p_c, config.batch_k_c, steps, seed)


def train_alignment_stage(
    model: TwoStreamNetwork,
    data: TrainingData,
    labels: MatchedLabels,
    config: PipelineConfig,
    numerics: ForwardNumerics,
    on_epoch: EpochHook,
) -> None:
    """Stage C trained in place on `model`, on `numerics.device`."""
    device = numerics.device
    classifier = new_classifier(model, labels.num_classes, config).to(device)
    optimizer = _optimizer(model, classifier, config)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, warmup_multistep(config.warmup_epochs, config.milestones))
    inputs = data.inputs(
        config.pad, torch.Generator().manual_seed(torch_seed(config.seed, seed_label("sca"))), numerics
    )
    targets = labels.targets()
    steps = steps_per_epoch(labels, config)
    form = sca_form(config)
    for epoch in range(config.epochs_c):
        plan = EpochPlan.of(config, epoch)
        states = None
        if plan.confidence or plan.prototypes:
            states = epoch_states(
                model,
                classifier,
                inputs,
                targets,
                config.sample_states,
                config.loss_feature,
                config.batch_p_c * config.batch_k_c,
                confidence=plan.confidence,
                prototypes=plan.prototypes,
                num_classes=labels.num_classes,
                seed=config.seed + epoch,
                max_iter=config.gmm_max_iter,
            )
        sampler = epoch_sampler(labels, config, steps, epoch)
        # The prototype table goes to the device once per epoch, not once per step.
        prototypes = None if states is None or states.prototypes is None else to_device(states.prototypes, device)
        confidence = states.confidence if states is not None and plan.confidence else None
        model.train()
        losses = EpochLosses()
        for batch in inputs.stream(sampler):
            labels_and_weights = _host_rows(batch.index_v, batch.index_r, targets, confidence)
            losses.add(
                _step(model, classifier, optimizer, inputs, batch, labels_and_weights, plan, prototypes, form, config)
            )
        scheduler.step()
        per_step = losses.read()
        require_finite_losses(per_step, Stage.SCA, epoch)
        sums = epoch_means(per_step, steps)
        sums["loss"] = sum(sums.values())
        log.info("stage C epoch %d/%d: %s", epoch + 1, config.epochs_c, sums)
        on_epoch(epoch, sums)


def _host_rows(
    index_v: np.ndarray,
    index_r: np.ndarray,
    targets: dict[Modality, torch.Tensor],
    confidence: dict[View, torch.Tensor] | None,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A batch's labels and confidences (None without weighting), gathered on the host in the batch's row order:
    visible view 1, visible view 2, infrared."""
    rows = {View.VISIBLE_1: index_v, View.VISIBLE_2: index_v, View.INFRARED: index_r}
    modality = {View.VISIBLE_1: Modality.VISIBLE, View.VISIBLE_2: Modality.VISIBLE, View.INFRARED: Modality.INFRARED}
    labels = torch.cat([targets[modality[v]][rows[v]] for v in View])
    return labels, None if confidence is None else torch.cat([confidence[v][rows[v]] for v in View])


def _step(
    model: TwoStreamNetwork,
    classifier: torch.nn.Linear,
    optimizer: torch.optim.Optimizer,
    inputs: NetworkInputs,
    batch: PreparedBatch,
    labels_and_weights: tuple[torch.Tensor, torch.Tensor | None],
    plan: EpochPlan,
    prototypes: torch.Tensor | None,
    form: SCAForm,
    config: PipelineConfig,
) -> dict[str, torch.Tensor]:
    """One optimiser step on a batch of visible rows (two views) and infrared rows, whose labels and confidences
    _host_rows gathered; the terms, detached, on the device (reading them would wait for the step)."""
    device = classifier.weight.device
    labels, confidence = labels_and_weights
    pooled, bn = inputs.forward_prepared(model, batch)
    terms = sca_losses(
        classifier(bn),
        loss_features(pooled, bn, config.loss_feature),
        to_device(labels, device),
        batch_views(len(batch.index_v), len(batch.index_r), device),
        plan.weights,
        confidence=None if confidence is None else to_device(confidence, device),
        prototypes=prototypes,
        form=form,
    )
    loss = reduce(operator.add, terms.values())
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {name: value.detach() for name, value in terms.items()}
