"""DCL: two single-memory banks, one per modality, and no cross-modality link — stage A alone, evaluated."""

from __future__ import annotations

from pathlib import Path

import torch

from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.hooks import Diagnose, ProgressCallback, StageStore
from mmm.pipeline.result import RunResult
from mmm.pipeline.run import run_stages
from mmm.pipeline.tasks import Task


def run_dcl(
    config: PipelineConfig,
    task: Task,
    *,
    device: torch.device,
    cache_dir: Path,
    store: StageStore | None = None,
    on_progress: ProgressCallback | None = None,
    diagnose: Diagnose | None = None,
) -> RunResult:
    """Train stage A and evaluate it. A Method (mmm.pipeline.method)."""
    return run_stages(
        config,
        task,
        second=None,
        align=False,
        device=device,
        cache_dir=cache_dir,
        store=store,
        on_progress=on_progress,
        diagnose=diagnose,
    )
