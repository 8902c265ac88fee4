"""The single-memory baselines run through the same interface as MMM."""

from __future__ import annotations

from pathlib import Path

import torch

from baselines.centroid_hungarian import run_centroid_hungarian
from baselines.dcl import run_dcl
from baselines.untrained import run_untrained
from mmm.pipeline.profiles import profile_config
from mmm.pipeline.tasks import Task
from tests.pipeline.conftest import DictStageStore

CPU = torch.device("cpu")


def test_dcl_trains_stage_a_only(sysu_smoke_task: Task, session_cache: Path) -> None:
    result = run_dcl(profile_config("smoke", "sysu"), sysu_smoke_task, device=CPU, cache_dir=session_cache)
    assert [e["stage"] for e in result.epochs] == ["dcl"]
    assert set(result.metrics) == {"all", "indoor"}


def test_centroid_hungarian_matches_centroids_each_epoch_and_shares_stage_a_with_mmm(
    sysu_smoke_task: Task, session_cache: Path
) -> None:
    store = DictStageStore()
    config = profile_config("smoke", "sysu")
    run_dcl(config, sysu_smoke_task, device=CPU, cache_dir=session_cache, store=store)
    seen: list[set[str]] = []

    def capture(stage: str, epoch: int, pseudo: dict) -> dict[str, float]:
        seen.append(set(pseudo))
        return {}

    result = run_centroid_hungarian(
        config, sysu_smoke_task, device=CPU, cache_dir=session_cache, store=store, diagnose=capture
    )
    assert result.cached_stages == ["dcl"]
    assert [e["stage"] for e in result.epochs] == ["dcl", "centroid_hungarian"]
    assert "matched_visible" in seen[-1]


def test_untrained_floor_evaluates_the_initial_weights_of_every_method(
    sysu_smoke_task: Task, session_cache: Path
) -> None:
    config = profile_config("smoke", "sysu")
    floor = run_untrained(config, sysu_smoke_task, device=CPU, cache_dir=session_cache)
    again = run_untrained(config, sysu_smoke_task, device=CPU, cache_dir=session_cache)
    assert floor.epochs == []
    assert set(floor.metrics) == {"all", "indoor"}
    assert floor.model_digest == again.model_digest
    trained = run_dcl(config, sysu_smoke_task, device=CPU, cache_dir=session_cache)
    assert trained.model_digest != floor.model_digest
