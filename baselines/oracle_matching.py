"""The oracle_matching reference: MMM's own per-modality clusters (those MMLM gets, after CMC), each visible cluster
matched to the infrared cluster that holds the most infrared images of its majority identity, then stage C as
configured. Between MMM and oracle_labels it splits MMM's shortfall: what MMLM's matching errors cost, and what the
clustering errors cost. It reads the training identities on purpose, through their one door
(mmm.diagnostics.identities); it is a reference, not a method.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from mmm.choices import Stage
from mmm.diagnostics.identities import TrainingIdentities, training_identities
from mmm.pipeline.alignment_stage import MatchedLabels
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.contrast import ModalityFeatures
from mmm.pipeline.hooks import Diagnose, ProgressCallback, StageStore
from mmm.pipeline.result import RunResult
from mmm.pipeline.run import CMC_STAGE, run_stages
from mmm.pipeline.stage_runner import ClusterMatcher, StageRunner
from mmm.pipeline.tasks import Task


def majority_assign(labels_v: np.ndarray, labels_r: np.ndarray, truth_v: np.ndarray, truth_r: np.ndarray) -> np.ndarray:
    """Each visible row's infrared cluster: its cluster's majority identity (ties: the smallest id), then the
    infrared cluster holding the most infrared rows of that identity (ties: the smallest label). Outliers, and
    clusters whose identity no infrared cluster holds, get -1 (dropped from stage C, as MMLM drops outliers)."""
    matched = np.full(len(labels_v), -1, dtype=np.int64)
    clustered_r = labels_r >= 0
    for cluster in np.unique(labels_v[labels_v >= 0]):
        members = labels_v == cluster
        ids, counts = np.unique(truth_v[members], return_counts=True)
        identity = ids[np.argmax(counts)]
        holders = labels_r[clustered_r & (truth_r == identity)]
        if holders.size:
            targets, held = np.unique(holders, return_counts=True)
            matched[members] = targets[np.argmax(held)]
    return matched


def majority_matcher(identities: TrainingIdentities) -> ClusterMatcher:
    """MMLM's place taken by the majority-identity matching; keyed on the identities it reads."""

    def assign(
        features: ModalityFeatures,
        labels_v: np.ndarray,
        labels_r: np.ndarray,
        config: PipelineConfig,
        device: torch.device,
    ) -> np.ndarray:
        return majority_assign(labels_v, labels_r, identities.visible, identities.infrared)

    return ClusterMatcher(Stage.MAJORITY_MATCH, assign, {"identities": identities.digest()})


def run_oracle_matching(
    config: PipelineConfig,
    task: Task,
    *,
    device: torch.device,
    cache_dir: Path,
    store: StageStore | None = None,
    on_progress: ProgressCallback | None = None,
    diagnose: Diagnose | None = None,
) -> RunResult:
    """DCL, CMC (when `cmc`), MMM's per-modality clusters matched by majority identity, then stage C. A Method
    (mmm.pipeline.method) with the signature of every method; unlike them it reads the training identities."""
    matcher = majority_matcher(training_identities(task.train))  # read before any training

    def match(run: StageRunner) -> MatchedLabels:
        return run.match(matcher)

    return run_stages(
        config,
        task,
        second=CMC_STAGE if config.cmc else None,
        align=True,
        match=match,
        device=device,
        cache_dir=cache_dir,
        store=store,
        on_progress=on_progress,
        diagnose=diagnose,
    )
