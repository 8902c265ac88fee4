"""End-to-end behaviour of the pipeline on the smoke pair: metrics, determinism, blindness to training
identities, stage reuse across downstream variants, and the ablation toggles."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from baselines.untrained import run_untrained
from mmm.choices import METRICS, TEST_CURVE
from mmm.data.records import GroundTruth, Modality, TrainSplit
from mmm.data.sampler import AllImagesSampler, IdentityBalancedSampler
from mmm.pipeline import alignment_stage, stage_runner
from mmm.pipeline.alignment_stage import EpochPlan, MatchedLabels, epoch_sampler
from mmm.pipeline.hooks import ProgressEvent
from mmm.pipeline.profiles import profile_config
from mmm.pipeline.result import RunResult
from mmm.pipeline.run import run_pipeline
from mmm.pipeline.stage_keys import stage_key
from mmm.pipeline.tasks import Task
from tests.pipeline.conftest import DictStageStore

CPU = torch.device("cpu")


def _run(task: Task, cache: Path, **overrides: object) -> tuple[RunResult, list[dict[str, np.ndarray]]]:
    pseudo_seen: list[dict[str, np.ndarray]] = []

    def capture(stage: str, epoch: int, pseudo: dict[str, np.ndarray]) -> dict[str, float]:
        pseudo_seen.append({name: labels.copy() for name, labels in pseudo.items()})
        return {}

    config = profile_config("smoke", task.dataset, **overrides)
    result = run_pipeline(config, task, device=CPU, cache_dir=cache, diagnose=capture)
    return result, pseudo_seen


@pytest.fixture(scope="module")
def reference_run(sysu_smoke_task: Task, session_cache: Path) -> tuple[RunResult, list[dict[str, np.ndarray]]]:
    return _run(sysu_smoke_task, session_cache)


def test_run_reports_every_metric_of_both_sysu_protocols(reference_run) -> None:
    result, _ = reference_run
    assert set(result.metrics) == {"all", "indoor"}
    for values in result.metrics.values():
        assert list(values) == list(METRICS)
        assert all(0.0 <= v <= 100.0 for v in values.values())
    assert {"images", "stems", "dcl", "cmc", "mmlm", "sca", "eval"} <= set(result.stage_seconds)
    assert [e["stage"] for e in result.epochs] == ["dcl", "cmc", "mmlm", "sca", "sca"]


def test_run_keeps_the_gallery_draws_behind_each_mean(reference_run) -> None:
    result, _ = reference_run
    assert set(result.trial_metrics) == {"all", "indoor"}
    for protocol, draws in result.trial_metrics.items():
        assert sorted(draws) == [0, 1]  # the smoke profile averages two gallery draws
        for metric in METRICS:
            assert result.metrics[protocol][metric] == pytest.approx(np.mean([d[metric] for d in draws.values()]))


def test_every_method_keeps_the_features_of_the_same_test_subset(
    reference_run, sysu_smoke_task: Task, session_cache: Path
) -> None:
    result, _ = reference_run
    floor = run_untrained(profile_config("smoke", "sysu"), sysu_smoke_task, device=CPU, cache_dir=session_cache)
    assert result.features is not None and floor.features is not None
    for column in ("pids", "modalities", "camids"):
        assert np.array_equal(getattr(result.features, column), getattr(floor.features, column))
    assert set(result.features.modalities) == {int(Modality.VISIBLE), int(Modality.INFRARED)}
    assert not np.array_equal(result.features.features, floor.features.features)  # the trained network's own


def test_run_reports_both_regdb_directions(regdb_smoke_task: Task, session_cache: Path) -> None:
    result, _ = _run(regdb_smoke_task, session_cache)
    assert set(result.metrics) == {"v2i", "i2v"}


def test_same_seed_gives_same_metrics_and_weights(reference_run, sysu_smoke_task: Task, session_cache: Path) -> None:
    again, _ = _run(sysu_smoke_task, session_cache)
    assert again.metrics == reference_run[0].metrics
    assert again.model_digest == reference_run[0].model_digest


def test_training_is_blind_to_training_identities(reference_run, sysu_smoke_task: Task, session_cache: Path) -> None:
    pids = sysu_smoke_task.train.ground_truth.pids
    permuted = np.random.default_rng(7).permutation(pids) + 1000
    assert not np.array_equal(permuted, pids)
    blind_train = TrainSplit(sysu_smoke_task.train.images, GroundTruth(permuted))
    blind_task = dataclasses.replace(sysu_smoke_task, train=blind_train)
    result, pseudo = _run(blind_task, session_cache)
    reference, reference_pseudo = reference_run
    assert len(pseudo) == len(reference_pseudo)
    for ours, theirs in zip(pseudo, reference_pseudo):
        assert ours.keys() == theirs.keys()
        for name in ours:
            np.testing.assert_array_equal(ours[name], theirs[name])
    assert result.model_digest == reference.model_digest
    assert result.metrics == reference.metrics


def test_variants_differing_in_stage_c_reuse_stages_a_b_and_mmlm(sysu_smoke_task: Task, session_cache: Path) -> None:
    store = DictStageStore()
    config = profile_config("smoke", "sysu")
    first = run_pipeline(config, sysu_smoke_task, device=CPU, cache_dir=session_cache, store=store)
    assert first.cached_stages == []
    assert {stage for stage, _ in store.entries} == {"dcl", "cmc", "mmlm"}
    second = run_pipeline(
        config.with_overrides(intra=False, inter=False),
        sysu_smoke_task,
        device=CPU,
        cache_dir=session_cache,
        store=store,
    )
    assert second.cached_stages == ["dcl", "cmc", "mmlm"]
    assert [e["stage"] for e in second.epochs] == [e["stage"] for e in first.epochs]
    replayed = run_pipeline(config, sysu_smoke_task, device=CPU, cache_dir=session_cache, store=store)
    assert replayed.model_digest == first.model_digest
    assert replayed.metrics == first.metrics


def test_changing_an_upstream_field_does_not_reuse_the_stage(sysu_smoke_task: Task, session_cache: Path) -> None:
    store = DictStageStore()
    config = profile_config("smoke", "sysu", mmlm=False)
    run_pipeline(config, sysu_smoke_task, device=CPU, cache_dir=session_cache, store=store)
    other = run_pipeline(
        config.with_overrides(temperature=0.07), sysu_smoke_task, device=CPU, cache_dir=session_cache, store=store
    )
    assert other.cached_stages == []


def test_mmlm_off_evaluates_the_stage_b_model(sysu_smoke_task: Task, session_cache: Path) -> None:
    result, _ = _run(sysu_smoke_task, session_cache, mmlm=False)
    assert [e["stage"] for e in result.epochs] == ["dcl", "cmc"]
    assert "sca" not in result.stage_seconds


def test_cmc_off_skips_stage_b(sysu_smoke_task: Task, session_cache: Path) -> None:
    result, pseudo = _run(sysu_smoke_task, session_cache, cmc=False)
    assert [e["stage"] for e in result.epochs] == ["dcl", "mmlm", "sca", "sca"]
    assert all("pooled" not in p for p in pseudo)


def test_the_confidence_control_weights_ce_with_both_sca_terms_off(
    sysu_smoke_task: Task, session_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The smoke pair leaves one identity in both modalities, where CE and its weighting are moot, so the test
    # watches the sample states stage C asks for: confidences, and no prototypes, only under the control.
    asked: list[tuple[bool, bool]] = []
    real = alignment_stage.epoch_states

    def spy(*args, confidence: bool, prototypes: bool, **kwargs):  # type: ignore[no-untyped-def]
        asked.append((confidence, prototypes))
        return real(*args, confidence=confidence, prototypes=prototypes, **kwargs)

    monkeypatch.setattr(alignment_stage, "epoch_states", spy)
    store = DictStageStore()
    off_config = profile_config("smoke", "sysu", intra=False, inter=False)
    run_pipeline(off_config, sysu_smoke_task, device=CPU, cache_dir=session_cache, store=store)
    assert asked == []
    control_config = off_config.with_overrides(confidence=True)
    last = EpochPlan.of(control_config, control_config.epochs_c - 1)
    assert last.confidence and last.weights.intra == last.weights.inter == 0.0
    control = run_pipeline(control_config, sysu_smoke_task, device=CPU, cache_dir=session_cache, store=store)
    assert control.cached_stages == ["dcl", "cmc", "mmlm"]
    after_plain_ce = control_config.epochs_c - control_config.plain_ce_epochs
    assert asked == [(True, False)] * after_plain_ce


def test_stage_c_on_cmcs_pooled_labels_skips_mmlm(
    sysu_smoke_task: Task, session_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trained_on: list[MatchedLabels] = []
    real = stage_runner.train_alignment_stage

    def spy(model, data, labels, *args, **kwargs):  # type: ignore[no-untyped-def]
        trained_on.append(labels)
        return real(model, data, labels, *args, **kwargs)

    monkeypatch.setattr(stage_runner, "train_alignment_stage", spy)
    store = DictStageStore()
    run_pipeline(profile_config("smoke", "sysu"), sysu_smoke_task, device=CPU, cache_dir=session_cache, store=store)
    result, pseudo = _run(sysu_smoke_task, session_cache, alignment_labels="cmc_pooled")
    assert [e["stage"] for e in result.epochs] == ["dcl", "cmc", "sca", "sca"]
    assert "mmlm" not in result.stage_seconds
    pooled = pseudo[-1]["pooled"]  # CMC's last epoch
    visible = len(sysu_smoke_task.train.indices(Modality.VISIBLE))
    labels = trained_on[-1]
    assert np.array_equal(labels.visible, pooled[:visible]) and np.array_equal(labels.infrared, pooled[visible:])
    # The same labels when CMC comes from the stage store.
    replayed = run_pipeline(
        profile_config("smoke", "sysu", alignment_labels="cmc_pooled"),
        sysu_smoke_task,
        device=CPU,
        cache_dir=session_cache,
        store=store,
    )
    assert replayed.cached_stages == ["dcl", "cmc"]
    assert np.array_equal(trained_on[-1].visible, labels.visible)
    assert replayed.model_digest == result.model_digest
    with pytest.raises(ValueError, match="needs cmc"):
        profile_config("smoke", "sysu", alignment_labels="cmc_pooled", cmc=False)


def test_test_curves_are_recorded_and_change_nothing(sysu_smoke_task: Task, session_cache: Path) -> None:
    store = DictStageStore()
    config = profile_config("smoke", "sysu")
    plain = run_pipeline(config, sysu_smoke_task, device=CPU, cache_dir=session_cache, store=store)
    events: list[ProgressEvent] = []
    curved = run_pipeline(
        config.with_overrides(eval_every=1),
        sysu_smoke_task,
        device=CPU,
        cache_dir=session_cache,
        store=store,
        on_progress=events.append,
    )
    # The last epoch stays the result, bit for bit: the curve's evaluations leave training alone.
    assert curved.model_digest == plain.model_digest and curved.metrics == plain.metrics
    curve = [record for record in curved.epochs if TEST_CURVE in record]
    assert [(r["stage"], r["epoch"]) for r in curve] == [("sca", 0), ("sca", 1)]
    assert curve[-1][TEST_CURVE] == curved.metrics
    assert all(TEST_CURVE not in record for record in plain.epochs)
    # Nothing downstream hears of them: no progress event carries a test value.
    assert all(TEST_CURVE not in event.values for event in events)
    sparse = run_pipeline(
        config.with_overrides(eval_every=5), sysu_smoke_task, device=CPU, cache_dir=session_cache, store=store
    )
    assert [r["epoch"] for r in sparse.epochs if TEST_CURVE in r] == [config.epochs_c - 1]  # the last epoch only


def test_the_warm_up_epochs_draw_from_every_image_when_the_config_says_so() -> None:
    labels = MatchedLabels(np.array([0, 0, 1, 1, -1, 2]), np.array([0, 1, 1, -1, 2]))
    config = profile_config("smoke", "sysu", plain_ce_epochs=1, warmup_sampler="all_images")
    assert isinstance(epoch_sampler(labels, config, 3, epoch=0), AllImagesSampler)
    assert isinstance(epoch_sampler(labels, config, 3, epoch=1), IdentityBalancedSampler)
    balanced = config.with_overrides(warmup_sampler="identity_balanced")
    assert isinstance(epoch_sampler(labels, balanced, 3, epoch=0), IdentityBalancedSampler)


def test_progress_callback_sees_every_epoch_and_may_stop_the_run(sysu_smoke_task: Task, session_cache: Path) -> None:
    events: list[ProgressEvent] = []

    class Stop(Exception):
        pass

    def on_progress(event: ProgressEvent) -> None:
        events.append(event)
        if event.stage == "cmc":
            raise Stop

    with pytest.raises(Stop):
        run_pipeline(
            profile_config("smoke", "sysu"),
            sysu_smoke_task,
            device=CPU,
            cache_dir=session_cache,
            on_progress=on_progress,
        )
    assert [e.stage for e in events] == ["dcl", "cmc"]


def test_config_for_another_dataset_is_rejected(sysu_smoke_task: Task, session_cache: Path) -> None:
    with pytest.raises(ValueError, match="regdb"):
        run_pipeline(profile_config("smoke", "regdb"), sysu_smoke_task, device=CPU, cache_dir=session_cache)


def test_intermediate_eval_reports_map_after_each_contrastive_stage(sysu_smoke_task: Task, session_cache: Path) -> None:
    events: list[ProgressEvent] = []
    run_pipeline(
        profile_config("smoke", "sysu", intermediate_eval=True),
        sysu_smoke_task,
        device=CPU,
        cache_dir=session_cache,
        on_progress=events.append,
    )
    evaluations = [i for i, e in enumerate(events) if e.stage == "eval"]
    stages = [e.stage for e in events]
    assert len(evaluations) == 3
    assert stages.index("cmc") < evaluations[1] < stages.index("mmlm")
    assert all("mAP" in events[i].values for i in evaluations)


def test_mmlm_key_ignores_stage_b_fields_when_cmc_is_off() -> None:
    off = profile_config("smoke", "sysu", cmc=False)
    numerics = "cpu/fp32"
    assert stage_key("mmlm", "t", off, numerics=numerics) == stage_key(
        "mmlm", "t", off.with_overrides(epochs_b=7, k1_cross=12), numerics=numerics
    )
    on = profile_config("smoke", "sysu")
    assert stage_key("mmlm", "t", on, numerics=numerics) != stage_key(
        "mmlm", "t", on.with_overrides(epochs_b=7), numerics=numerics
    )


def test_a_stage_made_on_another_device_kind_or_precision_is_another_stage() -> None:
    config = profile_config("smoke", "sysu")
    keys = {stage_key("dcl", "t", config, numerics=numerics) for numerics in ("cpu/fp32", "cuda/fp32", "cuda/bf16")}
    assert len(keys) == 3


def test_a_bf16_run_reuses_no_stage_of_an_fp32_run(sysu_smoke_task: Task, session_cache: Path) -> None:
    store = DictStageStore()
    config = profile_config("smoke", "sysu", mmlm=False)
    run_pipeline(config, sysu_smoke_task, device=CPU, cache_dir=session_cache, store=store)
    other = run_pipeline(
        config.with_overrides(precision="bf16"), sysu_smoke_task, device=CPU, cache_dir=session_cache, store=store
    )
    assert other.cached_stages == []
