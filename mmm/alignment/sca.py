"""Stage C's loss terms in one place: confidence-weighted CE, batch-hard triplet, L_intra and L_inter.

sca_losses returns each enabled term already multiplied by its weight, keyed by name; the step's loss is the
sum of the values. A weight of 0 disables its term: it is neither computed nor returned. SCAForm holds the
choices where the paper and the authors' release differ (mmm.pipeline.recipes).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from mmm.alignment.inter import batch_inter_loss
from mmm.alignment.prototypes import Distance, intra_distances
from mmm.alignment.triplet import TRIPLET_MARGIN, batch_hard_triplet
from mmm.alignment.views import is_visible
from mmm.choices import InterForm, IntraReduction


@dataclass(frozen=True)
class SCAWeights:
    """Weights of stage C's terms; 0 turns a term off."""

    ce: float = 1.0  # identity cross-entropy over the matched label space
    triplet: float = 1.0  # batch-hard triplet over both modalities together
    intra: float = 0.5  # lambda_intra: pull to the confidence-weighted prototype of the row's view
    inter: float = 0.05  # lambda_inter: per-identity cross-modality MMD^2


@dataclass(frozen=True)
class SCAForm:
    """How the terms are computed; the defaults are the paper's reading."""

    intra_distance: Distance = "l2sq"  # squared L2 (paper) or mean absolute difference (release)
    intra_confidence: bool = False  # release: each row's L_intra term times its confidence
    intra_reduction: IntraReduction = "batch_mean"  # mean over all rows, or visible mean + infrared mean (release)
    inter_form: InterForm = "half_symmetric"  # see mmm.alignment.inter
    margin: float = TRIPLET_MARGIN


def sca_losses(
    logits: torch.Tensor,
    features: torch.Tensor,
    labels: torch.Tensor,
    views: torch.Tensor,
    weights: SCAWeights | None = None,
    confidence: torch.Tensor | None = None,
    prototypes: torch.Tensor | None = None,
    form: SCAForm | None = None,
) -> dict[str, torch.Tensor]:
    """The weighted terms {"ce", "triplet", "intra", "inter"} (enabled ones only) for one batch.

    logits [B, C] and features [B, D] come from one forward pass over the batch (features: whichever feature the
    recipe's triplet and SCA terms use), labels [B] are matched labels, views [B] hold each row's
    mmm.alignment.views.View. confidence [B], when given, weights each row's CE (mean over the batch of w_i CE_i)
    and, with form.intra_confidence, its L_intra term; None is plain CE. prototypes [3, C, D] (one table per
    View) are needed when intra is on: each row is pulled to the prototype of its view and label.
    """
    weights = weights or SCAWeights()
    form = form or SCAForm()
    labels = labels.long()
    visible = is_visible(views)
    losses: dict[str, torch.Tensor] = {}
    if weights.ce:
        per_sample = F.cross_entropy(logits, labels, reduction="none")
        if confidence is not None:
            per_sample = per_sample * confidence.to(per_sample.dtype)
        losses["ce"] = weights.ce * per_sample.mean()
    if weights.triplet:
        losses["triplet"] = weights.triplet * batch_hard_triplet(features, labels, form.margin)
    if weights.intra:
        if prototypes is None:
            raise ValueError("the intra term needs prototypes [3, C, D], one table per view")
        _require((labels >= 0).all(), "L_intra needs labels >= 0 (outliers have no prototype)")
        distances = intra_distances(features, prototypes[views.long(), labels], form.intra_distance)
        losses["intra"] = weights.intra * _reduce_intra(distances, visible, confidence, form)
    if weights.inter:
        losses["inter"] = weights.inter * batch_inter_loss(features, labels, visible, form.inter_form, views)
    return losses


def _reduce_intra(
    distances: torch.Tensor, visible: torch.Tensor, confidence: torch.Tensor | None, form: SCAForm
) -> torch.Tensor:
    """L_intra from the rows' distances: batch mean (paper), or the visible rows' mean plus the infrared rows' mean
    (release: its two visible views are halved and both sums divided by the per-view batch size)."""
    if form.intra_confidence:
        if confidence is None:
            raise ValueError("a confidence-weighted L_intra needs the rows' confidence")
        distances = distances * confidence.to(distances.dtype)
    if form.intra_reduction == "batch_mean":
        return distances.mean()
    total = distances.new_zeros(())
    for rows in (visible, ~visible):
        # A masked mean: a modality absent from the batch adds 0, and nothing is read back from the device.
        total = total + torch.where(rows, distances, 0.0).sum() / rows.sum().clamp_min(1)
    return total


def _require(condition: torch.Tensor, message: str) -> None:
    """ValueError(message) unless the 0-d bool `condition` holds. On an accelerator the check is queued on the
    device (a failure stops the run at the next synchronisation), so the host does not wait for it."""
    if condition.device.type == "cpu":
        if not bool(condition):
            raise ValueError(message)
    else:
        torch._assert_async(condition, message)
