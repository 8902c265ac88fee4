"""MMM, top to bottom: intra-modality cluster contrast (DCL), cross-modality clustering (CMC), multi-memory
learning and matching (MMLM), soft cluster-level alignment (SCA), then the task's evaluation.

run_stages is the sequence; each line is one stage (mmm.pipeline.stage_runner keeps the stage store, records and
timings out of sight). The baselines run shorter sequences of the same stages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

from mmm.choices import Stage
from mmm.pipeline.alignment_stage import MatchedLabels
from mmm.pipeline.cmc_link import cmc_link
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.contrast import LinkFactory
from mmm.pipeline.hooks import Diagnose, ProgressCallback, StageStore
from mmm.pipeline.result import RunResult
from mmm.pipeline.stage_runner import StageRunner
from mmm.pipeline.tasks import Task


@dataclass(frozen=True)
class SecondStage:
    """A contrastive stage after DCL that links the modalities (CMC, or a baseline's)."""

    name: Stage  # stage name in records, the stage store and the cache key
    link: LinkFactory  # builds the epoch's cross-modality loss
    key_extra: dict[str, str]  # what distinguishes it in the cache key beside the config fields


CMC_STAGE = SecondStage(Stage.CMC, cmc_link, {"link": "cmc"})
# What gives stage C its labels once the contrastive stages ran: MMLM, or a reference's labels in its place.
Match = Callable[[StageRunner], MatchedLabels]


def mmlm(run: StageRunner) -> MatchedLabels:
    """MMLM's labels, or, as a control (alignment_labels "cmc_pooled"), CMC's own pooled clusters unmatched."""
    return run.pooled_labels() if run.config.alignment_labels == "cmc_pooled" else run.match()


def run_stages(
    config: PipelineConfig,
    task: Task,
    *,
    second: SecondStage | None,
    align: bool,
    match: Match = mmlm,
    device: torch.device,
    cache_dir: Path,
    store: StageStore | None = None,
    on_progress: ProgressCallback | None = None,
    diagnose: Diagnose | None = None,
) -> RunResult:
    """DCL, then `second` (if any), then `match` (MMLM, or as a control CMC's own pooled labels) and SCA when `align`,
    then the task's evaluation."""
    run = StageRunner(config, task, device, cache_dir, store, on_progress, diagnose)
    run.contrast(Stage.DCL)
    if second is not None:
        run.report_intermediate()
        run.contrast(second.name, second.link, second.key_extra)
    if align:
        run.report_intermediate()
        run.align(match(run))
    return run.result()


def run_pipeline(
    config: PipelineConfig,
    task: Task,
    *,
    device: torch.device,
    cache_dir: Path,
    store: StageStore | None = None,
    on_progress: ProgressCallback | None = None,
    diagnose: Diagnose | None = None,
) -> RunResult:
    """MMM as the config's toggles select: `cmc` runs CMC, `mmlm` runs MMLM and SCA (off: evaluate the model after
    CMC, the paper's "CMC only" row). A Method (mmm.pipeline.method); metrics are last-epoch."""
    return run_stages(
        config,
        task,
        second=CMC_STAGE if config.cmc else None,
        align=config.mmlm,
        device=device,
        cache_dir=cache_dir,
        store=store,
        on_progress=on_progress,
        diagnose=diagnose,
    )
