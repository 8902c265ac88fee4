"""Batch-hard triplet loss (Hermans et al. 2017), as stage C uses it over both modalities together."""

from __future__ import annotations

import torch
import torch.nn.functional as F

TRIPLET_MARGIN = 0.2


def batch_hard_triplet(features: torch.Tensor, labels: torch.Tensor, margin: float = TRIPLET_MARGIN) -> torch.Tensor:
    """mean_i max(0, max_{y_j = y_i} d_ij - min_{y_k != y_i} d_ik + margin), Euclidean d.

    The anchor counts among its own positives (d_ii = 0), as in the open-reid code, so an anchor without other
    positives still sees its hardest negative; an anchor without negatives contributes 0.
    """
    norms = (features * features).sum(dim=1)
    squared = norms.unsqueeze(1) + norms.unsqueeze(0) - 2.0 * features @ features.t()
    # The floor keeps sqrt differentiable at coincident points.
    distances = squared.clamp_min(1e-12).sqrt()
    same = labels.unsqueeze(1) == labels.unsqueeze(0)
    hardest_positive = distances.masked_fill(~same, float("-inf")).amax(dim=1)
    hardest_negative = distances.masked_fill(same, float("inf")).amin(dim=1)
    return F.relu(hardest_positive - hardest_negative + margin).mean()
