"""MMLM's assignment of every visible cluster to an infrared cluster, and the label transfer that follows."""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import linear_sum_assignment

from mmm.choices import SOLVERS, Solver


def match_clusters(cost: torch.Tensor | np.ndarray, solver: Solver = "hungarian") -> np.ndarray:
    """Infrared cluster index for every visible cluster: int64 [Cv].

    hungarian (paper): a minimum-cost one-to-one assignment on the rectangular cost. When Cv <= Cr every visible
    cluster is matched and the surplus infrared clusters stay unmatched; when Cv > Cr the Cv - Cr visible clusters
    it leaves over each take their cheapest infrared cluster (a second, many-to-one round).
    greedy (authors' code): every visible cluster takes its cheapest infrared cluster (many-to-one).
    """
    if solver not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; valid: {', '.join(SOLVERS)}")
    if isinstance(cost, torch.Tensor):
        cost = cost.detach().cpu().numpy()
    cost = np.asarray(cost, dtype=np.float64)
    if cost.ndim != 2 or cost.shape[1] == 0:
        raise ValueError(f"cost must be [Cv, Cr] with Cr > 0, got shape {cost.shape}")
    cheapest = cost.argmin(axis=1).astype(np.int64)
    if solver == "greedy" or cost.shape[0] == 0:
        return cheapest
    rows, cols = linear_sum_assignment(cost)
    # Rows the first round left over keep their cheapest column: that is the second round.
    matching = cheapest
    matching[rows] = cols
    return matching


def transfer_labels(labels_v: torch.Tensor | np.ndarray, matching: np.ndarray) -> np.ndarray:
    """Visible labels rewritten into the infrared label space: label c becomes matching[c]; outliers stay -1."""
    labels = labels_v.detach().cpu().numpy() if isinstance(labels_v, torch.Tensor) else np.asarray(labels_v)
    labels = labels.astype(np.int64)
    transferred = np.full_like(labels, -1)
    kept = labels >= 0
    transferred[kept] = np.asarray(matching, dtype=np.int64)[labels[kept]]
    return transferred
