"""MMLM's cluster-to-cluster cost: the one-sided Chamfer distance between two clusters' sets of memories."""

from __future__ import annotations

import torch

from mmm.choices import DIRECTIONS
from mmm.choices import CostDirection as Direction


def chamfer_cost(centres_v: torch.Tensor, centres_r: torch.Tensor, direction: Direction = "visible") -> torch.Tensor:
    """Cost [Cv, Cr] between visible memories [Cv, n, D] and infrared memories [Cr, m, D].

    direction "visible" (paper): C[a, b] = sum_i min_j |S_v[a, i] - S_r[b, j]|, a sum over the visible memories.
    direction "infrared" (authors' code): C[a, b] = sum_j min_i |S_v[a, i] - S_r[b, j]|.
    All memory pairs come from one distance matrix [Cv*n, Cr*m].
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r}; valid: {', '.join(DIRECTIONS)}")
    cv, n, dim = centres_v.shape
    cr, m, dim_r = centres_r.shape
    if dim != dim_r:
        raise ValueError(f"feature sizes differ: visible {dim}, infrared {dim_r}")
    distances = torch.cdist(centres_v.reshape(cv * n, dim), centres_r.reshape(cr * m, dim)).view(cv, n, cr, m)
    if direction == "visible":
        return distances.amin(dim=3).sum(dim=1)
    return distances.amin(dim=1).sum(dim=2)
