"""The references (untrained floor, identity-label ceiling): computed once per (dataset, seed, RegDB trial) and
starting weights, recorded in the output folder's cache, reused by every study written there and by re-runs, never
counted as a cell, and never computed by --dry-run or --report-only. The slow tests run the real command (smoke
profile, journal storage)."""

from __future__ import annotations

import csv
import dataclasses
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from harness.cells import Cell
from harness.queue import WorkerIdentity
from harness.reference_table import keep_current_references, reference_table, write_reference_table
from harness.references import CEILING, FLOOR, ReferenceStore, compute_references, reference_key, starting_weights
from harness.run_key import RunKey
from harness.runner import run_cells
from harness.stage_cache import FileStageStore
from harness.study import main
from mmm.choices import METRICS
from mmm.data.records import GroundTruth, Modality, TrainImage, TrainSplit
from mmm.models.pretrained import MOBILENET_SHA256
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.hooks import Diagnose, ProgressCallback, StageStore
from mmm.pipeline.profiles import profile_config
from mmm.pipeline.result import RunResult
from tests.harness.conftest import run_study
from tests.harness.fakes import (
    FAST_LEASES,
    FakeTask,
    TaskLike,
    fake_environment,
    fake_ledger,
    planned,
    recording_method,
)

PROFILE = "smoke"
# The smoke profile runs one seed, on SYSU-MM01 and on RegDB trial 1: two floors and two ceilings per study.
FLOOR_UNITS = 2
FLOOR_TABLE = reference_table(FLOOR)
CEILING_TABLE = reference_table(CEILING)
FLOOR_STAGE = FLOOR.record_stage


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _floor_values(path: Path) -> dict[tuple[str, ...], float]:
    return {
        (r["dataset"], r["protocol"], r["seed"], r["regdb_trial"], r["metric"]): float(r["value"])
        for r in _rows(path)
        if not r["error"]
    }


def _argv(study: str, out: Path, *extra: str) -> list[str]:
    return [study, "--profile", PROFILE, "--out", str(out), "--device", "cpu", *extra]


@pytest.fixture(scope="module")
def two_studies(tmp_path_factory: pytest.TempPathFactory, session_cache: Path, smoke_study_run: Path) -> Path:
    """One --out holding the smoke study (a copy of the session's run) and then the baselines study (which has an
    `untrained` variant of its own), both run for real."""
    out = tmp_path_factory.mktemp("floor") / "runs"
    shutil.copytree(smoke_study_run, out)
    run_study(_argv("baselines", out), session_cache)
    return out


def _provenance_floor(out: Path, study: str, kind: str = "floor") -> dict[str, int]:
    return json.loads((out / study / PROFILE / "provenance.json").read_text())[kind]


@pytest.mark.slow
def test_the_references_are_computed_once_and_reused_by_a_second_study_in_the_same_out(two_studies: Path) -> None:
    assert _provenance_floor(two_studies, "smoke") == {
        "computed": FLOOR_UNITS,
        "reused": 0,
        "corrupt": 0,
        "unwritten": 0,
    }
    # baselines: the floor pass and its two `untrained` cells, all served by the smoke study's records.
    assert _provenance_floor(two_studies, "baselines") == {
        "computed": 0,
        "reused": 2 * FLOOR_UNITS,
        "corrupt": 0,
        "unwritten": 0,
    }
    assert len(list((two_studies / "cache" / "floor").glob("*.json"))) == FLOOR_UNITS
    smoke = _floor_values(two_studies / "smoke" / PROFILE / FLOOR_TABLE)
    assert {key[0] for key in smoke} == {"sysu", "regdb"}
    assert {key[4] for key in smoke} == set(METRICS)
    assert smoke == _floor_values(two_studies / "baselines" / PROFILE / FLOOR_TABLE)
    # The ceiling: computed after the smoke study's cells (sharing their stages A and B), served to baselines.
    assert _provenance_floor(two_studies, "smoke", "ceiling") == {
        "computed": FLOOR_UNITS,
        "reused": 0,
        "corrupt": 0,
        "unwritten": 0,
    }
    assert _provenance_floor(two_studies, "baselines", "ceiling")["reused"] == FLOOR_UNITS
    assert _provenance_floor(two_studies, "baselines", "ceiling")["computed"] == 0
    assert len(list((two_studies / "cache" / "ceiling").glob("*.json"))) == FLOOR_UNITS
    ceiling = _floor_values(two_studies / "smoke" / PROFILE / CEILING_TABLE)
    assert {key[0] for key in ceiling} == {"sysu", "regdb"} and ceiling != smoke
    assert ceiling == _floor_values(two_studies / "baselines" / PROFILE / CEILING_TABLE)
    stages = _rows(two_studies / "smoke" / PROFILE / "stages.csv")
    assert {r["stage"] for r in stages} >= {"dcl", "cmc", "mmlm", "sca"}  # the cells computed A and B, not the ceiling


@pytest.mark.slow
def test_an_untrained_variant_is_the_floor_and_floors_are_not_cells(two_studies: Path) -> None:
    floor = _floor_values(two_studies / "baselines" / PROFILE / FLOOR_TABLE)
    results = _rows(two_studies / "baselines" / PROFILE / "results.csv")
    untrained = {
        (r["dataset"], r["protocol"], r["seed"], r["regdb_trial"], r["metric"]): float(r["value"])
        for r in results
        if r["variant"] == "untrained"
    }
    assert untrained == floor
    stages = _rows(two_studies / "baselines" / PROFILE / "stages.csv")
    assert {(r["stage"], r["cached"]) for r in stages if r["variant"] == "untrained"} == {(FLOOR_STAGE, "True")}
    # The smoke study's tables and Optuna studies hold its four cells and nothing of the floor.
    assert {r["variant"] for r in _rows(two_studies / "smoke" / PROFILE / "results.csv")} == {"full", "sca_off"}
    ledger = fake_ledger(None, two_studies, "smoke", read_only=True)
    assert sum(len(ledger.trials(dataset)) for dataset in ledger.spec.datasets) == 4


@pytest.mark.slow
def test_the_report_shows_the_floor_row_and_line_and_says_one_seed_resolves_nothing(two_studies: Path) -> None:
    html = (two_studies / "smoke" / PROFILE / "report.html").read_text()
    results = html[html.index('id="results"') : html.index("</section>", html.index('id="results"'))]
    floor = _floor_values(two_studies / "smoke" / PROFILE / FLOOR_TABLE)
    assert results.count('<td class="floor">untrained floor</td>') == 2  # SYSU-MM01 and RegDB tables
    assert f'<td class="num floor">{floor[("sysu", "all", "0", "", "mAP")]:.2f}</td>' in results
    assert f'<td class="num floor">{floor[("regdb", "v2i", "0", "1", "R1")]:.2f}</td>' in results
    assert results.count("Dashed line: the untrained floor") == 2
    ceiling = _floor_values(two_studies / "smoke" / PROFILE / CEILING_TABLE)
    row = '<td class="ceiling">identity-label ceiling (uses identity labels: a reference, not a method)</td>'
    assert results.count(row) == 2
    assert f'<td class="num ceiling">{ceiling[("sysu", "all", "0", "", "mAP")]:.2f}</td>' in results
    assert results.count("Dotted line: the identity-label ceiling") == 2
    provenance = html[: html.index('id="results"')]
    assert provenance.count("2 computed, 0 reused from records") == 2  # floor and ceiling
    assert "<title>smoke (smoke profile)" in html
    baselines = (two_studies / "baselines" / PROFILE / "report.html").read_text()
    assert '<td class="">oracle_matching (uses identity labels)</td>' in baselines
    assert "unresolved (1 pair)" in results and "One pair of runs cannot resolve a difference" in results
    paired = _rows(two_studies / "smoke" / PROFILE / "paired_deltas.csv")
    assert {(r["variant"], r["metric"], r["verdict"]) for r in paired} == {
        ("sca_off", "R1", "unresolved (1 pair)"),
        ("sca_off", "mAP", "unresolved (1 pair)"),
    }
    assert len(paired) == 8  # 2 datasets x 2 protocols x R1, mAP


@pytest.mark.slow
def test_report_only_and_dry_run_compute_no_reference(
    two_studies: Path,
    tmp_path: Path,
    session_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MMM_CACHE_DIR", str(session_cache))
    out = tmp_path / "runs"
    shutil.copytree(two_studies, out)
    shutil.rmtree(out / "cache" / "floor")
    shutil.rmtree(out / "cache" / "ceiling")
    tables = [(out / "smoke" / PROFILE / name).read_text() for name in (FLOOR_TABLE, CEILING_TABLE)]
    assert main(_argv("smoke", out, "--report-only")) == 0
    assert main(_argv("ablation_sca", out, "--dry-run")) == 0
    assert not (out / "cache" / "floor").exists() and not (out / "cache" / "ceiling").exists()
    assert [(out / "smoke" / PROFILE / name).read_text() for name in (FLOOR_TABLE, CEILING_TABLE)] == tables
    assert '<td class="floor">untrained floor</td>' in (out / "smoke" / PROFILE / "report.html").read_text()
    fresh = tmp_path / "fresh"
    assert main(_argv("smoke", fresh, "--dry-run")) == 0
    assert not fresh.exists()
    capsys.readouterr()


def test_a_changed_pretrained_choice_data_or_numerics_gives_another_floor_key(tmp_path: Path) -> None:
    config = profile_config(PROFILE, "sysu")
    assert config.pretrained == "imagenet" and starting_weights(config) == MOBILENET_SHA256
    base = reference_key(FLOOR, config, FakeTask("sysu", "task-a"), starting_weights(config), "cpu/fp32")

    def key(fingerprint: str = "task-a", numerics: str = "cpu/fp32", **changes: Any) -> str:
        changed = config.with_overrides(**changes)
        return reference_key(FLOOR, changed, FakeTask("sysu", fingerprint), starting_weights(changed), numerics)

    weights = tmp_path / "weights.pt"
    weights.write_bytes(b"one")
    from_file = key(pretrained=str(weights))
    weights.write_bytes(b"two")  # same path, other content
    others = [
        key(pretrained="none"),
        from_file,
        key(pretrained=str(weights)),
        key("task-b"),
        key(seed=1),
        key(height=96),
        key(eval_trials=3),
        key(eval_flip=not config.eval_flip),  # one view or flip-averaged: another evaluation
        key(backbone="mobilenet_v2_full"),
        key(numerics="cuda/fp32"),
        key(numerics="cpu/bf16"),
    ]
    assert len({base, *others}) == len(others) + 1
    # Training fields are not upstream of the floor: studies that differ only there share it.
    assert key(epochs_a=7, lr=0.1, memories=2, intra=False, eval_every=2) == base


@dataclass(frozen=True)
class LabelledTask:
    name: str
    fingerprint: str
    train: TrainSplit


NUMERICS = "cpu/fp32"


def _labelled_task(pids: list[int]) -> LabelledTask:
    images = tuple(TrainImage(Path(f"{i}.jpg"), 1, Modality(i % 2)) for i in range(len(pids)))
    return LabelledTask("sysu", "task-a", TrainSplit(images, GroundTruth(np.asarray(pids, dtype=np.int64))))


def test_the_ceiling_key_covers_the_identities_it_reads_and_every_field_but_mmlm_s() -> None:
    config = profile_config(PROFILE, "sysu")
    task = _labelled_task([1, 1, 2, 2])
    weights = starting_weights(config)
    base = reference_key(CEILING, config, task, weights, NUMERICS)
    assert base != reference_key(FLOOR, config, task, weights, NUMERICS)
    others = [
        reference_key(CEILING, config, _labelled_task([1, 2, 2, 1]), weights, NUMERICS),
        reference_key(CEILING, config.with_overrides(lambda_intra=0.3), task, weights, NUMERICS),
        reference_key(CEILING, config.with_overrides(epochs_a=7), task, weights, NUMERICS),
        reference_key(CEILING, config.with_overrides(correspondence_noise=0.5), task, weights, NUMERICS),
        reference_key(CEILING, config.with_overrides(recipe="release"), task, weights, NUMERICS),
    ]
    assert len({base, *others}) == len(others) + 1
    # MMLM's output is what the ceiling replaces: its fields are not upstream.
    assert reference_key(CEILING, config.with_overrides(memories=1, solver="greedy"), task, weights, NUMERICS) == base


def _untrained_counting(calls: list[str]) -> Any:
    def untrained(
        config: PipelineConfig,
        task: TaskLike,
        *,
        device: torch.device,
        cache_dir: Path,
        store: StageStore | None = None,
        on_progress: ProgressCallback | None = None,
        diagnose: Diagnose | None = None,
    ) -> RunResult:
        calls.append(task.name)
        return RunResult(
            metrics={"all": {"R1": 10.0, "mAP": 5.0}},
            trial_metrics={"all": {0: {"R1": 10.0}}},
            stage_seconds={"eval": 0.1},
            model_digest="digest",
        )

    return untrained


RANDOM_SMALL = PipelineConfig(backbone="resnet18_small", pretrained="none")


def test_a_floor_record_is_reused_and_a_damaged_one_is_recomputed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []
    store = ReferenceStore(tmp_path / "floor", FLOOR, _untrained_counting(calls))
    task = FakeTask("sysu", "fingerprint")
    first = store.get(RANDOM_SMALL, task, device="cpu", cache_dir=tmp_path)
    again = ReferenceStore(tmp_path / "floor", FLOOR, _untrained_counting(calls))  # another run, same --out
    second = again.get(RANDOM_SMALL, task, device="cpu", cache_dir=tmp_path)
    assert calls == ["sysu"] and second.reused and not first.reused
    assert second.result.metrics == first.result.metrics and second.result.trial_metrics == {"all": {0: {"R1": 10.0}}}
    served = again.serve(RANDOM_SMALL, task, device="cpu", cache_dir=tmp_path)
    assert served.cached_stages == [FLOOR_STAGE] and list(served.stage_seconds) == [FLOOR_STAGE]
    store.path(first.key).write_text('{"version": 1, "key": "', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="harness.references"):
        third = again.get(RANDOM_SMALL, task, device="cpu", cache_dir=tmp_path)
    assert not third.reused and calls == ["sysu", "sysu"] and again.stats.corrupt == 1
    assert "is unreadable" in caplog.text


def test_a_floor_record_that_cannot_be_written_is_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    calls: list[str] = []
    store = ReferenceStore(blocker / "floor", FLOOR, _untrained_counting(calls))
    with caplog.at_level(logging.WARNING, logger="harness.references"):
        floor = store.get(RANDOM_SMALL, FakeTask("sysu", "fp"), device="cpu", cache_dir=tmp_path)
    assert floor.result.metrics["all"]["mAP"] == 5.0
    assert store.stats.unwritten == 1 and "could not be written" in caplog.text


def test_a_floor_that_cannot_be_computed_is_recorded_missing_and_the_cells_still_run(tmp_path: Path) -> None:
    ledger = fake_ledger(None, tmp_path, "smoke")
    cells = planned(ledger)
    env = fake_environment(recording_method(tmp_path / "log"), tmp_path / "data", FileStageStore(tmp_path / "cache"))

    def make_config(cell: Cell, params: Any) -> PipelineConfig:
        # A weight file that is not there: the floor cannot start its network (the fake cells never build one).
        return PipelineConfig(dataset=cell.dataset, seed=cell.seed, pretrained=str(tmp_path / "missing.pt"))

    env = dataclasses.replace(env, make_config=make_config)
    floors = compute_references(cells, env, ReferenceStore(tmp_path / "cache" / "floor", FLOOR))
    summary = run_cells(cells, ledger, env, policy=FAST_LEASES, me=WorkerIdentity.current())
    assert len(summary.completed) == len(cells) and not summary.unfinished
    assert [o.error is not None and "missing.pt: no such file" in o.error for o in floors.outcomes] == [True, True]
    write_reference_table(tmp_path, "smoke", ledger.key, floors)
    rows = _rows(tmp_path / FLOOR_TABLE)
    assert [(r["dataset"], r["metric"], r["value"]) for r in rows] == [("sysu", "", ""), ("regdb", "", "")]
    assert all("no such file" in r["error"] for r in rows)


def test_report_only_drops_floor_rows_of_other_data(tmp_path: Path) -> None:
    ledger = fake_ledger(None, tmp_path, "smoke")
    env = fake_environment(recording_method(tmp_path / "log"), tmp_path / "data")
    env = dataclasses.replace(
        env, make_config=lambda cell, params: dataclasses.replace(RANDOM_SMALL, dataset=cell.dataset, seed=cell.seed)
    )
    store = ReferenceStore(tmp_path / "floor", FLOOR, _untrained_counting([]))
    floors = compute_references(planned(ledger), env, store)
    write_reference_table(tmp_path, "smoke", ledger.key, floors)
    written = (tmp_path / FLOOR_TABLE).read_text()
    keep_current_references(tmp_path, ledger.key, FLOOR)
    assert (tmp_path / FLOOR_TABLE).read_text() == written
    other = RunKey(PROFILE, {**ledger.key.data, "regdb": "real@0123456789ab"}, ledger.key.weights)
    keep_current_references(tmp_path, other, FLOOR)
    assert {r["dataset"] for r in _rows(tmp_path / FLOOR_TABLE)} == {"sysu"}


def test_references_start_from_the_params_files_fields_of_their_dataset_as_the_cells_do(tmp_path: Path) -> None:
    ledger = fake_ledger(None, tmp_path, "smoke")
    env = fake_environment(recording_method(tmp_path / "log"), tmp_path / "data")
    env = dataclasses.replace(
        env,
        make_config=lambda cell, params: dataclasses.replace(
            RANDOM_SMALL, dataset=cell.dataset, seed=cell.seed, **cell.overrides
        ),
    )
    store = ReferenceStore(tmp_path / "floor", FLOOR, _untrained_counting([]))
    plain = compute_references(planned(ledger), env, store)
    based = compute_references(planned(ledger), env, store, {"sysu": {"epochs_c": 3}, "regdb": {"epochs_c": 5}})
    assert [o.config.epochs_c for o in based.outcomes if o.config] == [3, 5]
    assert [o.config.epochs_c for o in plain.outcomes if o.config] == [RANDOM_SMALL.epochs_c] * 2
