"""Evaluation protocols: the SYSU-MM01 single-shot gallery draw, and runners that featurize a test set,
score every trial and average the metrics (as percentages) over trials.

Distance between features is the cosine distance 1 − cos(q, g); features are re-normalised here, so the
ranking is the cosine ranking even if a featurizer returns vectors that are not exactly unit length.
"""

from __future__ import annotations

import logging
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from mmm.choices import METRICS, REGDB_DIRECTIONS, RegdbDirection, SysuMode
from mmm.data.datasets import SYSU_INDOOR_CAMS, SYSU_VISIBLE_CAMS, RegdbDataset, SysuDataset
from mmm.data.records import ImageRecord, Modality
from mmm.evaluation.metrics import RankResult, evaluate_regdb, evaluate_sysu
from mmm.finite import require_finite_features

logger = logging.getLogger(__name__)

Featurize = Callable[[Sequence[ImageRecord], Modality], np.ndarray]

SYSU_MODE_CAMS: dict[str, tuple[int, ...]] = {"all": SYSU_VISIBLE_CAMS, "indoor": SYSU_INDOOR_CAMS}
SYSU_TRIALS = range(10)
MAX_RANK = 20
_RANK_OF_METRIC = {"R1": 1, "R10": 10, "R20": 20}


@dataclass(frozen=True)
class ProtocolResult:
    """metrics: the mean over trials of each of METRICS, as percentages; per_trial: trial -> the same dict."""

    metrics: dict[str, float]
    per_trial: dict[int, dict[str, float]]


def rank_percentages(result: RankResult) -> dict[str, float]:
    """One result as percentages keyed by METRICS (R1, R10, R20, mAP, mINP)."""
    if result.cmc.size < max(_RANK_OF_METRIC.values()):
        raise ValueError(f"CMC has {result.cmc.size} ranks; reporting needs {max(_RANK_OF_METRIC.values())}")
    values = {name: 100.0 * float(result.cmc[rank - 1]) for name, rank in _RANK_OF_METRIC.items()}
    values["mAP"] = 100.0 * result.mAP
    values["mINP"] = 100.0 * result.mINP
    return {name: values[name] for name in METRICS}


def summarise(results: Sequence[RankResult]) -> dict[str, float]:
    """Mean of each of METRICS over results (e.g. trials), as percentages."""
    if not results:
        raise ValueError("summarise needs at least one result")
    per_result = [rank_percentages(r) for r in results]
    return {name: float(np.mean([p[name] for p in per_result])) for name in METRICS}


def sysu_gallery(dataset_or_pool: SysuDataset | Sequence[ImageRecord], trial: int, mode: SysuMode) -> list[ImageRecord]:
    """The single-shot gallery of one trial: one image per (identity, visible camera of the mode) present."""
    pool = dataset_or_pool.gallery_pool if isinstance(dataset_or_pool, SysuDataset) else dataset_or_pool
    return [pool[i] for i in _sysu_gallery_indices(pool, trial, mode)]


def _sysu_gallery_indices(pool: Sequence[ImageRecord], trial: int, mode: SysuMode) -> list[int]:
    if mode not in SYSU_MODE_CAMS:
        raise ValueError(f"unknown SYSU mode {mode!r}; valid: {sorted(SYSU_MODE_CAMS)}")
    cams = SYSU_MODE_CAMS[mode]
    by_id_cam: dict[tuple[int, int], list[int]] = defaultdict(list)
    for index, record in enumerate(pool):
        if record.camid in cams:
            by_id_cam[(record.pid, record.camid)].append(index)
    # A private generator seeded like the reference code's random.seed(trial) yields the same choices without
    # touching the global random state; draws follow the reference order (ids ascending, cameras ascending,
    # files sorted by path string) so trial t picks the same images as the published protocol.
    rng = random.Random(trial)
    chosen = []
    for key in sorted(by_id_cam):
        files = sorted(by_id_cam[key], key=lambda i: str(pool[i].path))
        chosen.append(rng.choice(files))
    return chosen


def run_sysu_protocol(
    featurize: Featurize, dataset: SysuDataset, mode: SysuMode, trials: Iterable[int] = SYSU_TRIALS
) -> ProtocolResult:
    """Featurize the queries and the needed gallery images once, then score each trial's gallery draw."""
    draws = {t: _sysu_gallery_indices(dataset.gallery_pool, t, mode) for t in trials}
    if not draws:
        raise ValueError("a protocol needs at least one trial")
    # Only images drawn in some trial are featurized; each trial then indexes into these rows.
    needed = sorted(set().union(*draws.values()))
    row_of = {pool_index: row for row, pool_index in enumerate(needed)}
    q_feats = _features(featurize, dataset.query, Modality.INFRARED)
    g_feats = _features(featurize, [dataset.gallery_pool[i] for i in needed], Modality.VISIBLE)
    q_pids = np.array([r.pid for r in dataset.query])
    q_camids = np.array([r.camid for r in dataset.query])

    results = {}
    for trial, draw in draws.items():
        rows = np.array([row_of[i] for i in draw], dtype=np.int64)
        gallery = [dataset.gallery_pool[i] for i in draw]
        results[trial] = evaluate_sysu(
            cosine_distance(q_feats, g_feats[rows]),
            q_pids,
            np.array([r.pid for r in gallery]),
            q_camids,
            np.array([r.camid for r in gallery]),
            max_rank=MAX_RANK,
        )
        logger.debug("SYSU %s trial %d: %s", mode, trial, rank_percentages(results[trial]))
    return _protocol_result(results)


def run_regdb_protocol(
    featurize_for_trial: Callable[[int], Featurize],
    dataset: RegdbDataset,
    direction: RegdbDirection,
    trials: Iterable[int] | None = None,
) -> ProtocolResult:
    """Score each trial with its own model: featurize_for_trial(t) featurizes with the model trained on trial
    t (a mapping's __getitem__ fits). v2i: visible queries, thermal gallery; i2v swaps. trials default to all
    of the dataset's trials."""
    if direction not in REGDB_DIRECTIONS:
        raise ValueError(f"unknown RegDB direction {direction!r}; valid: {list(REGDB_DIRECTIONS)}")
    trials = sorted(dataset.trials) if trials is None else list(trials)
    missing = [t for t in trials if t not in dataset.trials]
    if missing:
        raise ValueError(f"RegDB trials {missing} not in the dataset (has {sorted(dataset.trials)})")

    results = {}
    for trial in trials:
        split = dataset.trials[trial]
        visible = (split.test_visible, Modality.VISIBLE)
        thermal = (split.test_thermal, Modality.INFRARED)
        (query, q_modality), (gallery, g_modality) = (visible, thermal) if direction == "v2i" else (thermal, visible)
        featurize = featurize_for_trial(trial)
        results[trial] = evaluate_regdb(
            cosine_distance(_features(featurize, query, q_modality), _features(featurize, gallery, g_modality)),
            np.array([r.pid for r in query]),
            np.array([r.pid for r in gallery]),
            max_rank=MAX_RANK,
        )
        logger.debug("RegDB %s trial %d: %s", direction, trial, rank_percentages(results[trial]))
    return _protocol_result(results)


def _features(featurize: Featurize, records: Sequence[ImageRecord], modality: Modality) -> np.ndarray:
    feats = np.asarray(featurize(records, modality), dtype=np.float64)
    if feats.ndim != 2 or feats.shape[0] != len(records):
        raise ValueError(f"featurize returned shape {feats.shape} for {len(records)} images; expected (N, D)")
    # No metric is ever computed from non-finite features: a ranking of NaN distances looks like a result.
    require_finite_features(feats, f"evaluation features of {len(records)} {modality.name.lower()} test images")
    return feats


def cosine_distance(q: np.ndarray, g: np.ndarray) -> np.ndarray:
    """1 − cos between every row of q and every row of g: the distance every protocol ranks by."""
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    g = g / np.maximum(np.linalg.norm(g, axis=1, keepdims=True), 1e-12)
    return 1.0 - q @ g.T


def _protocol_result(results: dict[int, RankResult]) -> ProtocolResult:
    if not results:
        raise ValueError("a protocol needs at least one trial")
    return ProtocolResult(
        metrics=summarise(list(results.values())),
        per_trial={trial: rank_percentages(r) for trial, r in results.items()},
    )
