"""DCL: two single-memory banks, one per modality, and no cross-modality link — stage A alone, evaluated."""
from __future__ import annotations

from typing import Any

from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.result import RunResult
from mmm.pipeline.run import run_stages
from mmm.pipeline.tasks import Task


def run_dcl(config: PipelineConfig, task: Task, **hooks: Any) -> RunResult:
    """Train stage A and evaluate it; hooks as mmm.pipeline.run.run_stages (device, cache_dir, store, ...)."""
    return run_stages(config, task, second=None, align=False, **hooks)
