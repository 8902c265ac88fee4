"""SCA's L_intra: confidence-weighted class prototypes per modality, and the pull of each feature to its own."""

from __future__ import annotations

import numpy as np
import torch

from mmm.choices import DISTANCES
from mmm.choices import IntraDistance as Distance


def weighted_prototypes(
    features: torch.Tensor,
    labels: torch.Tensor | np.ndarray,
    weights: torch.Tensor | np.ndarray | None,
    num_classes: int,
) -> torch.Tensor:
    """P_y = sum_{i: y_i = y} w_i f_i / N_y, detached: [num_classes, D].

    N_y is the number of samples of class y (docs/design.md §1.6), not the sum of their weights, so low-confidence
    samples shrink a prototype toward the origin rather than dropping out. Classes without samples get a zero
    row; negative labels are ignored. weights None means all ones (plain class means).
    """
    features = features.detach()
    labels = torch.as_tensor(labels, device=features.device).long()
    if weights is None:
        weights = torch.ones(len(labels), dtype=features.dtype, device=features.device)
    weights = torch.as_tensor(weights, device=features.device).to(features.dtype)
    kept = labels >= 0
    sums = torch.zeros(num_classes, features.shape[1], dtype=features.dtype, device=features.device)
    sums.index_add_(0, labels[kept], features[kept] * weights[kept].unsqueeze(1))
    counts = torch.bincount(labels[kept], minlength=num_classes).to(features.dtype)
    return sums / counts.clamp_min(1).unsqueeze(1)


def intra_distances(features: torch.Tensor, row_prototypes: torch.Tensor, distance: Distance = "l2sq") -> torch.Tensor:
    """[B] distance of each feature [B, D] to the prototype of its row [B, D] (detached).

    l2sq (paper): |f - P|^2 summed over dimensions. l1 (authors' code, nn.L1Loss): |f - P| averaged over
    dimensions.
    """
    if distance not in DISTANCES:
        raise ValueError(f"unknown distance {distance!r}; valid: {', '.join(DISTANCES)}")
    difference = features - row_prototypes.detach()
    if distance == "l2sq":
        return difference.pow(2).sum(dim=1)
    return difference.abs().mean(dim=1)
