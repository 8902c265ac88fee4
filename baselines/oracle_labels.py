"""The oracle_labels reference, the ceiling of a profile: MMM with MMLM's output replaced by the true identities
(perfect clusters and correspondences), so stage C trains on labels no method could find. It reads the training
identities on purpose, through their one door (mmm.diagnostics.identities); it is a reference, not a method.

Stages A and B run as configured and share the stage store with MMM's cells. With `correspondence_noise` r, round(r·K)
identities' visible -> infrared correspondences are deranged first (baselines.identity_labels): the noise study.
"""

from __future__ import annotations

from pathlib import Path

import torch

from baselines.identity_labels import identity_labels
from mmm.choices import Stage
from mmm.diagnostics.identities import training_identities
from mmm.pipeline.alignment_stage import MatchedLabels
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.hooks import Diagnose, ProgressCallback, StageStore
from mmm.pipeline.result import RunResult
from mmm.pipeline.run import CMC_STAGE, run_stages
from mmm.pipeline.stage_runner import StageRunner
from mmm.pipeline.tasks import Task


def run_oracle_labels(
    config: PipelineConfig,
    task: Task,
    *,
    device: torch.device,
    cache_dir: Path,
    store: StageStore | None = None,
    on_progress: ProgressCallback | None = None,
    diagnose: Diagnose | None = None,
) -> RunResult:
    """DCL, CMC (when `cmc`), then stage C on the true identities. A Method (mmm.pipeline.method) with the
    signature of every method; unlike them it reads the training identities."""
    # Read (and a bad noise level refused) before any training.
    truth = identity_labels(training_identities(task.train), config.correspondence_noise, config.seed)

    def given(run: StageRunner) -> MatchedLabels:
        return run.given_labels(Stage.IDENTITY_LABELS, truth.labels, truth.pseudo)

    return run_stages(
        config,
        task,
        second=CMC_STAGE if config.cmc else None,
        align=True,
        match=given,
        device=device,
        cache_dir=cache_dir,
        store=store,
        on_progress=on_progress,
        diagnose=diagnose,
    )
