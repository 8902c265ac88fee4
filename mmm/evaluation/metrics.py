"""Rank metrics (CMC, mAP, mINP) of a query-by-gallery distance matrix, under the SYSU-MM01 and RegDB rules.

SYSU-MM01: a query from camera 3 ignores every gallery image from camera 2 (the two cameras share a room, so
such pairs are too easy); CMC counts each identity once in the ranked list (first occurrence kept); mAP and mINP
use the full list after the removal. RegDB: nothing removed, CMC on the plain ranked list.

Common to both: the gallery is sorted by distance with a stable sort, so equal distances keep gallery order;
a query with no positive gallery image (after the removal) is not valid and is skipped by every metric; the
metrics are fractions in [0, 1] averaged over valid queries. Everything is vectorised over the whole matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import numpy as np
import torch

ArrayLike = Union[np.ndarray, torch.Tensor]

SYSU_IGNORING_QUERY_CAM = 3
SYSU_IGNORED_GALLERY_CAM = 2


@dataclass(frozen=True)
class RankResult:
    """cmc[k] is the fraction of valid queries matched within the first k+1 ranks; mAP and mINP are fractions."""

    cmc: np.ndarray
    mAP: float
    mINP: float
    num_valid_queries: int


def evaluate_sysu(
    distmat: ArrayLike,
    q_pids: ArrayLike,
    g_pids: ArrayLike,
    q_camids: ArrayLike,
    g_camids: ArrayLike,
    max_rank: int = 20,
) -> RankResult:
    """SYSU-MM01 metrics: cam-3 queries ignore cam-2 gallery images; CMC on identity-deduplicated lists."""
    dist, qp, gp = _checked(distmat, q_pids, g_pids, max_rank)
    qc = _as_numpy(q_camids).reshape(-1)
    gc = _as_numpy(g_camids).reshape(-1)
    if qc.shape != qp.shape or gc.shape != gp.shape:
        raise ValueError(
            f"camids must align with pids: q_camids {qc.shape} vs q_pids {qp.shape}, "
            f"g_camids {gc.shape} vs g_pids {gp.shape}"
        )
    ignored = (qc[:, None] == SYSU_IGNORING_QUERY_CAM) & (gc[None, :] == SYSU_IGNORED_GALLERY_CAM)
    return _rank_metrics(dist, qp, gp, ignored, deduplicate=True, max_rank=max_rank)


def evaluate_regdb(distmat: ArrayLike, q_pids: ArrayLike, g_pids: ArrayLike, max_rank: int = 20) -> RankResult:
    """RegDB metrics: every gallery image kept, CMC on the plain ranked list."""
    dist, qp, gp = _checked(distmat, q_pids, g_pids, max_rank)
    return _rank_metrics(dist, qp, gp, ignored=None, deduplicate=False, max_rank=max_rank)


def _as_numpy(x: ArrayLike) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def _checked(
    distmat: ArrayLike, q_pids: ArrayLike, g_pids: ArrayLike, max_rank: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dist = _as_numpy(distmat)
    qp = _as_numpy(q_pids).reshape(-1)
    gp = _as_numpy(g_pids).reshape(-1)
    if dist.ndim != 2 or dist.shape != (qp.size, gp.size):
        raise ValueError(f"distmat shape {dist.shape} does not match {qp.size} queries x {gp.size} gallery")
    if max_rank < 1:
        raise ValueError(f"max_rank must be at least 1, got {max_rank}")
    return dist, qp, gp


def _first_occurrences(ranked_codes: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Mask of the kept entries whose identity code (>= 0) has not appeared earlier among the kept entries of
    its row."""
    # Ignored entries get a sentinel below every real code so they never shadow a later entry; a stable sort
    # groups equal codes while keeping rank order, so the head of each group is the first occurrence.
    codes = np.where(kept, ranked_codes, -1)
    perm = np.argsort(codes, axis=1, kind="stable")
    grouped = np.take_along_axis(codes, perm, axis=1)
    head = np.ones_like(grouped, dtype=bool)
    head[:, 1:] = grouped[:, 1:] != grouped[:, :-1]
    first = np.empty_like(head)
    np.put_along_axis(first, perm, head, axis=1)
    return first & kept


def _rank_metrics(
    dist: np.ndarray,
    q_pids: np.ndarray,
    g_pids: np.ndarray,
    ignored: np.ndarray | None,
    deduplicate: bool,
    max_rank: int,
) -> RankResult:
    order = np.argsort(dist, axis=1, kind="stable")
    ranked_pids = g_pids[order]
    matches = ranked_pids == q_pids[:, None]
    if ignored is None:
        kept = np.ones_like(matches)
    else:
        kept = ~np.take_along_axis(ignored, order, axis=1)
    positives = matches & kept

    num_pos = positives.sum(axis=1)
    valid = num_pos > 0
    if not valid.any():
        raise ValueError("no valid query: no query has a positive gallery image left to match")
    positives, kept, num_pos = positives[valid], kept[valid], num_pos[valid]

    # Ranks count kept entries only, as if the ignored images had been deleted from the gallery.
    kept_rank = np.cumsum(kept, axis=1)
    hits = np.cumsum(positives, axis=1)
    precision_at_hits = np.where(positives, hits / np.maximum(kept_rank, 1), 0.0)
    average_precision = precision_at_hits.sum(axis=1) / num_pos
    last_hit_rank = np.where(positives, kept_rank, 0).max(axis=1)
    inverse_negative_penalty = num_pos / last_hit_rank

    # CMC only needs the rank of the first positive, counted in the (possibly deduplicated) list.
    if deduplicate:
        g_codes = np.unique(g_pids, return_inverse=True)[1].reshape(-1)
        listed = _first_occurrences(g_codes[order[valid]], kept)
    else:
        listed = kept
    list_rank = np.cumsum(listed, axis=1)
    first_hit = np.argmax(positives, axis=1)
    first_hit_rank = np.take_along_axis(list_rank, first_hit[:, None], axis=1)[:, 0]
    cmc = (first_hit_rank[:, None] <= np.arange(1, max_rank + 1)[None, :]).mean(axis=0)

    return RankResult(
        cmc=cmc.astype(np.float64),
        mAP=float(average_precision.mean()),
        mINP=float(inverse_negative_penalty.mean()),
        num_valid_queries=int(valid.sum()),
    )
