"""The seam between a caller (the harness, a script) and a method: the one signature that MMM's run_pipeline, the
baselines and the floor all have, so a study can run any of them by name."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.hooks import Diagnose, ProgressCallback, StageStore
from mmm.pipeline.result import RunResult

if TYPE_CHECKING:
    # Only annotations use them: callers that merely name the protocol (the harness's method table) stay free of
    # torch and of the evaluation code.
    import torch

    from mmm.pipeline.tasks import Task


class Method(Protocol):
    """Trains on the unlabelled training images of `task` as `config` says, then runs the task's evaluation.

    - device: where the network trains and extracts features.
    - cache_dir: decoded images and stored stem outputs, shared by every run on the same data.
    - store: finished stage outputs, found again by the hash of everything upstream (None: nothing is kept).
    - on_progress: called after every epoch and stage; it may raise to stop the run.
    - diagnose: given pseudo-labels, returns ground-truth diagnostics recorded with the epoch.
    """

    def __call__(
        self,
        config: PipelineConfig,
        task: Task,
        *,
        device: torch.device,
        cache_dir: Path,
        store: StageStore | None = None,
        on_progress: ProgressCallback | None = None,
        diagnose: Diagnose | None = None,
    ) -> RunResult: ...
