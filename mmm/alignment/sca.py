"""Stage C's loss terms in one place: confidence-weighted CE, batch-hard triplet, L_intra and L_inter.

sca_losses returns each enabled term already multiplied by its weight, keyed by name; the step's loss is the
sum of the values. A weight of 0 disables its term: it is neither computed nor returned.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from mmm.alignment.inter import inter_loss
from mmm.alignment.prototypes import Distance, intra_loss
from mmm.alignment.triplet import TRIPLET_MARGIN, batch_hard_triplet
from mmm.data.records import Modality


@dataclass(frozen=True)
class SCAWeights:
    """Weights of stage C's terms; 0 turns a term off."""

    ce: float = 1.0  # identity cross-entropy over the matched label space
    triplet: float = 1.0  # batch-hard triplet over both modalities together
    intra: float = 0.5  # lambda_intra: pull to the modality's confidence-weighted prototype
    inter: float = 0.05  # lambda_inter: per-identity cross-modality MMD^2


def sca_losses(
    logits: torch.Tensor,
    features: torch.Tensor,
    labels: torch.Tensor,
    modalities: torch.Tensor,
    weights: SCAWeights | None = None,
    confidence: torch.Tensor | None = None,
    prototypes: tuple[torch.Tensor, torch.Tensor] | None = None,
    intra_distance: Distance = "l2sq",
    margin: float = TRIPLET_MARGIN,
) -> dict[str, torch.Tensor]:
    """The weighted terms {"ce", "triplet", "intra", "inter"} (enabled ones only) for one batch.

    logits [B, C] and features [B, D] come from one forward pass over the batch, labels [B] are matched labels,
    modalities [B] hold Modality values (0 visible, 1 infrared). confidence [B], when given, weights each sample's CE
    (mean over the batch of w_i CE_i); None is plain CE. prototypes (visible [C, D], infrared [C, D]) are needed
    when intra is on; every feature is pulled to the prototype of its own modality and the mean runs over the
    whole batch. weights None means the defaults of SCAWeights.
    """
    weights = weights or SCAWeights()
    labels = labels.long()
    losses: dict[str, torch.Tensor] = {}
    if weights.ce:
        per_sample = F.cross_entropy(logits, labels, reduction="none")
        if confidence is not None:
            per_sample = per_sample * confidence.to(per_sample.dtype)
        losses["ce"] = weights.ce * per_sample.mean()
    if weights.triplet:
        losses["triplet"] = weights.triplet * batch_hard_triplet(features, labels, margin)
    visible = modalities == Modality.VISIBLE
    infrared = modalities == Modality.INFRARED
    if weights.intra:
        if prototypes is None:
            raise ValueError("the intra term needs prototypes (visible, infrared)")
        total = features.new_zeros(())
        for chosen, modality_prototypes in ((visible, prototypes[0]), (infrared, prototypes[1])):
            if bool(chosen.any()):
                count = int(chosen.sum())
                term = intra_loss(features[chosen], labels[chosen], modality_prototypes, intra_distance)
                total = total + term * count
        losses["intra"] = weights.intra * total / len(labels)
    if weights.inter:
        losses["inter"] = weights.inter * inter_loss(
            features[visible], features[infrared], labels[visible], labels[infrared]
        )
    return losses
