"""The method's stages (DCL, CMC, MMLM, SCA) wired by one config; recipes paper and release; profiles smoke, quick,
paper and release.

A run: `run_pipeline(profile_config("smoke", "sysu"), sysu_task(read_sysu(root)), device=..., cache_dir=...)`.
Every method (MMM, the baselines) has the `Method` signature. Exports are imported on first use (mmm.lazy), so
`mmm.pipeline.config` stays importable without torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmm.lazy import lazy_exports

if TYPE_CHECKING:
    from mmm.pipeline.config import PipelineConfig
    from mmm.pipeline.hooks import Diagnose, ProgressCallback, ProgressEvent, StageStore
    from mmm.pipeline.method import Method
    from mmm.pipeline.profiles import default_recipe, profile_config
    from mmm.pipeline.recipes import recipe_table
    from mmm.pipeline.result import RunResult
    from mmm.pipeline.run import run_pipeline
    from mmm.pipeline.tasks import Task, regdb_task, regdb_validation_task, sysu_task, sysu_validation_task

__all__ = [
    "Diagnose",
    "Method",
    "PipelineConfig",
    "ProgressCallback",
    "ProgressEvent",
    "RunResult",
    "StageStore",
    "Task",
    "default_recipe",
    "profile_config",
    "recipe_table",
    "regdb_task",
    "regdb_validation_task",
    "run_pipeline",
    "sysu_task",
    "sysu_validation_task",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    __all__,
    (
        "mmm.pipeline.config",
        "mmm.pipeline.result",
        "mmm.pipeline.hooks",
        "mmm.pipeline.method",
        "mmm.pipeline.recipes",
        "mmm.pipeline.profiles",
        "mmm.pipeline.tasks",
        "mmm.pipeline.run",
    ),
)
