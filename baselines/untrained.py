"""The floor: the backbone as every method starts it (same seed and weights, frozen stems given their
per-modality statistics, no training), evaluated as is."""

from __future__ import annotations

import time
from pathlib import Path

import torch

from mmm.choices import Stage
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.hooks import Diagnose, ProgressCallback, StageStore
from mmm.pipeline.network import make_featurize, start_network, state_digest
from mmm.pipeline.result import RunResult
from mmm.pipeline.stage_runner import report_evaluation
from mmm.pipeline.tasks import Task, assess
from mmm.pipeline.training_images import TrainingImages


def run_untrained(
    config: PipelineConfig,
    task: Task,
    *,
    device: torch.device,
    cache_dir: Path,
    store: StageStore | None = None,
    on_progress: ProgressCallback | None = None,
    diagnose: Diagnose | None = None,
) -> RunResult:
    """Evaluate the initial weights. A Method (mmm.pipeline.method); `store` and `diagnose` are accepted and
    ignored: no stage runs, so there is nothing to store and no pseudo-label to diagnose."""
    start = time.perf_counter()
    images = TrainingImages.load(task.train, config.height, config.width, cache_dir)
    model, weights = start_network(config, images, cache_dir, device)
    stems = time.perf_counter() - start
    start = time.perf_counter()
    assessment = assess(task, make_featurize(model, config, cache_dir, device))
    seconds = time.perf_counter() - start
    report_evaluation(assessment.metrics, on_progress)
    return RunResult(
        metrics=assessment.metrics,
        trial_metrics=assessment.trial_metrics,
        features=assessment.features,
        stage_seconds={Stage.STEMS: stems, Stage.EVAL: seconds},
        model_digest=state_digest(model),
        weights=None if weights is None else weights.as_dict(),
    )
