"""The whole MMLM step: sub-centres per modality, Chamfer cost, cluster matching, label transfer.

Cluster labels of each modality must be contiguous, 0..C-1, with -1 for outliers (see subcentres).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import torch

from mmm.matching.assignment import Solver, match_clusters, transfer_labels
from mmm.matching.cost import Direction, chamfer_cost
from mmm.matching.subcentres import KMEANS_ITERS, subcentres

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MatchResult:
    """What MMLM hands to stage C."""

    labels_v: np.ndarray  # visible labels in the infrared label space; -1 for visible outliers
    matching: np.ndarray  # [Cv] infrared cluster matched to each visible cluster
    cost: np.ndarray  # [Cv, Cr] Chamfer cost the matching was solved on


def multi_memory_match(
    features_v: torch.Tensor,
    labels_v: torch.Tensor | np.ndarray,
    features_r: torch.Tensor,
    labels_r: torch.Tensor | np.ndarray,
    n: int = 4,
    solver: Solver = "hungarian",
    direction: Direction = "visible",
    seed: int = 0,
    iters: int = KMEANS_ITERS,
    skip_last: bool = False,
    restarts: int = 1,
) -> MatchResult:
    """Match every visible cluster to an infrared cluster through n memories per cluster (n=1: centroids).

    skip_last reproduces a defect of the authors' release (mmlm.py builds its cluster lists with
    range(len(label_set) - 1)): the last infrared cluster is never a candidate, and the last visible cluster is
    never matched, so it keeps its own id, which names an unrelated infrared cluster. Off by default.
    """
    started = time.perf_counter()
    with torch.no_grad():
        centres_v = subcentres(features_v, labels_v, n, iters=iters, seed=seed, restarts=restarts)
        centres_r = subcentres(features_r, labels_r, n, iters=iters, seed=seed, restarts=restarts)
        cost = chamfer_cost(centres_v, centres_r, direction=direction)
    if skip_last and cost.shape[0] > 1 and cost.shape[1] > 1:
        last = cost.shape[0] - 1
        matching = np.r_[match_clusters(cost[:-1, :-1], solver=solver), last].astype(np.int64)
    else:
        matching = match_clusters(cost, solver=solver)
    result = MatchResult(labels_v=transfer_labels(labels_v, matching), matching=matching, cost=cost.cpu().numpy())
    logger.debug(
        "MMLM: %d visible -> %d infrared clusters, n=%d, %s/%s, %.3f s",
        centres_v.shape[0],
        centres_r.shape[0],
        n,
        solver,
        direction,
        time.perf_counter() - started,
    )
    return result
