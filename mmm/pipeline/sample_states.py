"""Stage C's per-epoch sample states: each training row's GMM confidence and the confidence-weighted class
prototypes, per view (mmm.alignment.views.View).

Two sources, as the recipes differ:
- clean_eval (paper reading): eval-mode outputs of the un-augmented images; one mixture per modality; both visible
  views share the visible confidences and prototypes.
- augmented_train (authors' release, main.py eval_train() and the prototype pass of train()): a train-mode pass,
  without gradients, over the augmented views of every labelled row; the two visible views are min-max normalised
  apart and fitted by one mixture; prototypes are built per view. The release builds its prototypes in a second
  pass at the end of the previous epoch; one pass at the start of the epoch serves both here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from mmm.alignment.confidence import gmm_confidence_views
from mmm.alignment.prototypes import weighted_prototypes
from mmm.alignment.views import View
from mmm.choices import LossFeature, SampleStates
from mmm.data.records import Modality
from mmm.models.two_stream import TwoStreamNetwork
from mmm.pipeline.network_inputs import NetworkInputs

MODALITY_VIEWS: dict[Modality, tuple[View, ...]] = {
    Modality.VISIBLE: (View.VISIBLE_1, View.VISIBLE_2),
    Modality.INFRARED: (View.INFRARED,),
}


@dataclass(frozen=True)
class EpochStates:
    confidence: dict[View, torch.Tensor]  # per view: [N] confidence of every row of its modality (0 for outliers)
    prototypes: torch.Tensor | None  # [3, C, D] per view, or None when not asked for


def loss_features(pooled: torch.Tensor, bn: torch.Tensor, feature: LossFeature) -> torch.Tensor:
    """The feature stage C's triplet and SCA terms see: the L2-normalised BN-neck feature or the pooled one."""
    return F.normalize(bn, dim=1) if feature == "bn_normalised" else pooled


@dataclass(frozen=True)
class _ViewOutputs:
    """Per view: each row's CE under its label and its loss feature."""

    losses: dict[View, torch.Tensor]
    features: dict[View, torch.Tensor]


@torch.no_grad()
def epoch_states(
    model: TwoStreamNetwork,
    classifier: torch.nn.Linear,
    inputs: NetworkInputs,
    targets: dict[Modality, torch.Tensor],
    source: SampleStates,
    feature: LossFeature,
    batch_size: int,
    *,
    confidence: bool,
    prototypes: bool,
    num_classes: int,
    seed: int,
    max_iter: int,
) -> EpochStates:
    """Confidences (all ones when `confidence` is off) and, when `prototypes`, the per-view prototypes."""
    if source == "clean_eval":
        outputs = _clean_outputs(model, classifier, inputs, targets, feature)
    else:
        outputs = _augmented_outputs(model, classifier, inputs, targets, feature, batch_size)
    weights: dict[View, torch.Tensor] = {}
    for modality, views in MODALITY_VIEWS.items():
        valid = targets[modality] >= 0
        # Clean outputs give both visible views the same rows: fit them once, as one view.
        distinct = views[:1] if source == "clean_eval" else views
        fitted = [torch.ones(int(valid.sum())) for _ in distinct]
        if confidence:
            fitted = [
                torch.as_tensor(w, dtype=torch.float32)
                for w in gmm_confidence_views(
                    [outputs.losses[v][valid] for v in distinct], seed=seed, max_iter=max_iter
                )
            ]
        for index, view in enumerate(views):
            full = torch.zeros(len(valid))
            full[valid] = fitted[min(index, len(fitted) - 1)]
            weights[view] = full
    table = None
    if prototypes:
        table = torch.stack(
            [
                weighted_prototypes(outputs.features[view], targets[_modality(view)], weights[view], num_classes)
                for view in View
            ]
        )
    return EpochStates(weights, table)


def _modality(view: View) -> Modality:
    return Modality.INFRARED if view == View.INFRARED else Modality.VISIBLE


def _per_sample_ce(classifier: torch.nn.Linear, bn: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    logits = bn.to(classifier.weight.device) @ classifier.weight.T
    return F.cross_entropy(logits, targets.clamp(min=0).to(logits.device), reduction="none").cpu()


def _clean_outputs(
    model: TwoStreamNetwork,
    classifier: torch.nn.Linear,
    inputs: NetworkInputs,
    targets: dict[Modality, torch.Tensor],
    feature: LossFeature,
) -> _ViewOutputs:
    losses: dict[View, torch.Tensor] = {}
    features: dict[View, torch.Tensor] = {}
    for modality, views in MODALITY_VIEWS.items():
        # One eval pass per modality: the un-augmented images are the same for both visible views.
        pooled, bn = inputs.plain_outputs(model, modality)
        modality_losses = _per_sample_ce(classifier, bn, targets[modality])
        modality_features = loss_features(pooled, bn, feature)
        for view in views:
            losses[view], features[view] = modality_losses, modality_features
    return _ViewOutputs(losses, features)


def _augmented_outputs(
    model: TwoStreamNetwork,
    classifier: torch.nn.Linear,
    inputs: NetworkInputs,
    targets: dict[Modality, torch.Tensor],
    feature: LossFeature,
    batch_size: int,
) -> _ViewOutputs:
    """Train-mode outputs on augmented views of every labelled row. Visible and infrared rows travel together in
    each batch (train-mode BatchNorm sees both, as in training); the shorter modality's rows are cycled."""
    rows_v = torch.nonzero(targets[Modality.VISIBLE] >= 0).flatten().numpy()
    rows_r = torch.nonzero(targets[Modality.INFRARED] >= 0).flatten().numpy()
    counts = {Modality.VISIBLE: len(targets[Modality.VISIBLE]), Modality.INFRARED: len(targets[Modality.INFRARED])}
    losses = {view: torch.zeros(counts[_modality(view)]) for view in View}
    features: dict[View, torch.Tensor] = {}
    was_training = model.training
    model.train()
    try:
        for start in range(0, max(len(rows_v), len(rows_r)), batch_size):
            positions = np.arange(start, min(start + batch_size, max(len(rows_v), len(rows_r))))
            index_v, index_r = rows_v[positions % len(rows_v)], rows_r[positions % len(rows_r)]
            pooled, bn = inputs.forward_batch(model, index_v, index_r)
            chosen = loss_features(pooled, bn, feature).cpu()
            n = len(index_v)
            for view, rows, part in (
                (View.VISIBLE_1, index_v, slice(0, n)),
                (View.VISIBLE_2, index_v, slice(n, 2 * n)),
                (View.INFRARED, index_r, slice(2 * n, None)),
            ):
                modality = _modality(view)
                if view not in features:
                    features[view] = torch.zeros(counts[modality], chosen.shape[1])
                rows_t = torch.from_numpy(rows)
                losses[view][rows_t] = _per_sample_ce(classifier, bn[part], targets[modality][rows_t])
                features[view][rows_t] = chosen[part]
    finally:
        model.train(was_training)
    return _ViewOutputs(losses, features)
