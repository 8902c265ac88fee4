"""The references that use identity labels, as training runs them: oracle_labels (the ceiling) trains stage C on the
true identities after stages A and B shared with MMM; oracle_matching matches MMM's own clusters by majority
identity; a noise level that moves one identity is refused before anything trains."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from baselines.oracle_labels import run_oracle_labels
from baselines.oracle_matching import majority_assign, run_oracle_matching
from mmm.diagnostics.identities import training_identities
from mmm.pipeline.hooks import ProgressEvent
from mmm.pipeline.profiles import profile_config
from mmm.pipeline.run import run_pipeline
from mmm.pipeline.tasks import Task
from tests.pipeline.conftest import DictStageStore

CPU = torch.device("cpu")


class Capture:
    """A diagnose hook that keeps each stage's pseudo-labels."""

    def __init__(self) -> None:
        self.pseudo: dict[str, dict[str, np.ndarray]] = {}

    def __call__(self, stage: str, epoch: int, pseudo: dict[str, np.ndarray]) -> dict[str, float]:
        self.pseudo[stage] = {name: labels.copy() for name, labels in pseudo.items()}
        return {}


def test_the_ceiling_trains_stage_c_on_the_identities_after_mmm_s_own_stages_a_and_b(
    sysu_smoke_task: Task, session_cache: Path
) -> None:
    store, config = DictStageStore(), profile_config("smoke", "sysu")
    mmm = run_pipeline(config, sysu_smoke_task, device=CPU, cache_dir=session_cache, store=store)
    seen = Capture()
    ceiling = run_oracle_labels(
        config, sysu_smoke_task, device=CPU, cache_dir=session_cache, store=store, diagnose=seen
    )
    assert ceiling.cached_stages == ["dcl", "cmc"]
    assert [e["stage"] for e in ceiling.epochs] == ["dcl", "cmc", "identity_labels", "sca", "sca"]
    assert ceiling.model_digest != mmm.model_digest
    truth = training_identities(sysu_smoke_task.train)
    labels = seen.pseudo["identity_labels"]
    ids = np.unique(truth.pids)
    assert np.array_equal(labels["matched_visible"], np.searchsorted(ids, truth.visible))
    assert np.array_equal(labels["infrared"], np.searchsorted(ids, truth.infrared))


def test_oracle_matching_matches_the_clusters_mmlm_gets(sysu_smoke_task: Task, session_cache: Path) -> None:
    config = profile_config("smoke", "sysu")
    mmm, oracle = Capture(), Capture()
    run_pipeline(config, sysu_smoke_task, device=CPU, cache_dir=session_cache, diagnose=mmm)
    result = run_oracle_matching(config, sysu_smoke_task, device=CPU, cache_dir=session_cache, diagnose=oracle)
    assert [e["stage"] for e in result.epochs] == ["dcl", "cmc", "majority_match", "sca", "sca"]
    for side in ("visible", "infrared"):
        assert np.array_equal(oracle.pseudo["majority_match"][side], mmm.pseudo["mmlm"][side])
    truth = training_identities(sysu_smoke_task.train)
    labels = oracle.pseudo["majority_match"]
    expected = majority_assign(labels["visible"], labels["infrared"], truth.visible, truth.infrared)
    assert np.array_equal(labels["matched_visible"], expected)


def test_majority_matching_follows_each_visible_cluster_s_majority_identity() -> None:
    # Visible clusters: 0 = mostly identity 7, 1 = identity 9 only, 2 = identity 5 (no infrared cluster holds it).
    labels_v = np.array([0, 0, 0, 1, 1, 2, -1])
    truth_v = np.array([7, 7, 9, 9, 9, 5, 7])
    # Infrared clusters: 0 holds one 7, 1 holds two 7s and a 9, 2 holds the other 9s; an outlier 5.
    labels_r = np.array([0, 1, 1, 1, 2, 2, -1])
    truth_r = np.array([7, 7, 7, 9, 9, 9, 5])
    matched = majority_assign(labels_v, labels_r, truth_v, truth_r)
    assert matched.tolist() == [1, 1, 1, 2, 2, -1, -1]


def test_a_noise_level_that_moves_one_identity_is_refused_before_training(
    regdb_smoke_task: Task, session_cache: Path
) -> None:
    events: list[ProgressEvent] = []
    identities = len(np.unique(training_identities(regdb_smoke_task.train).pids))
    config = profile_config("smoke", "regdb", correspondence_noise=1.0 / identities)
    with pytest.raises(ValueError, match="cannot be deranged"):
        run_oracle_labels(config, regdb_smoke_task, device=CPU, cache_dir=session_cache, on_progress=events.append)
    assert events == []
