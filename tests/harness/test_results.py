"""Tidy tables and provenance written from stored trials, in the shape the report reads."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import torch

from harness.provenance import collect_provenance
from harness.queue import Ledger, WorkerIdentity, parse_storage
from harness.registry import load_study
from harness.results import (
    EPOCH_COLUMNS,
    EVAL_TRIAL_COLUMNS,
    FAILURE_COLUMNS,
    RESULT_COLUMNS,
    STAGE_COLUMNS,
    write_results,
)
from harness.spec import FloatParam, StudySpec, Variant, tuning_profiles
from mmm.code_identity import code_identity
from reports.loading import load_study as load_report_tables
from tests.harness.fakes import FAST_LEASES, fake_ledger, planned, recording_method, run_fake, synthetic_key

BROKEN = "full/regdb/seed0/trial1"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _header(path: Path) -> tuple[str, ...]:
    return tuple(path.read_text().splitlines()[0].split(","))


def _write(tmp_path: Path, ledger: Ledger, seeds: int | None = None) -> Path:
    study_dir = tmp_path / ledger.spec.name
    write_results(study_dir, ledger, planned(ledger, seeds), FAST_LEASES, WorkerIdentity.current())
    return study_dir


def test_tables_hold_every_metric_epoch_stage_and_failure(tmp_path: Path) -> None:
    ledger = fake_ledger(None, tmp_path, "smoke")
    run_fake(ledger, recording_method(tmp_path / "log", fail={BROKEN}), tmp_path)
    study_dir = _write(tmp_path, ledger)

    assert _header(study_dir / "results.csv") == RESULT_COLUMNS
    assert _header(study_dir / "epochs.csv") == EPOCH_COLUMNS
    assert _header(study_dir / "stages.csv") == STAGE_COLUMNS
    assert _header(study_dir / "failures.csv") == FAILURE_COLUMNS

    results = _rows(study_dir / "results.csv")
    assert len(results) == 3 * 2 * 5  # three finished cells x two protocols x five metrics
    sca_off = [r for r in results if r["variant"] == "sca_off" and r["dataset"] == "regdb"]
    assert {r["protocol"] for r in sca_off} == {"v2i", "i2v"}
    assert {r["regdb_trial"] for r in sca_off} == {"1"}
    assert json.loads(sca_off[0]["params_json"]) == {"intra": False, "inter": False}
    assert {r["regdb_trial"] for r in results if r["dataset"] == "sysu"} == {""}

    epochs = _rows(study_dir / "epochs.csv")
    assert {r["name"] for r in epochs} == {"loss", "diag.ari"}
    stages = _rows(study_dir / "stages.csv")
    cached = {(r["variant"], r["dataset"]) for r in stages if r["stage"] == "dcl" and r["cached"] == "True"}
    assert cached == {("sca_off", "sysu"), ("sca_off", "regdb")}  # the fake caches stage A per seed

    failures = _rows(study_dir / "failures.csv")
    assert [(f["cell_id"], f["state"]) for f in failures] == [(BROKEN, "failed")]
    assert "planned failure" in failures[0]["error"]


def test_eval_trials_hold_the_values_behind_each_mean(tmp_path: Path) -> None:
    ledger = fake_ledger(None, tmp_path, "smoke")
    run_fake(ledger, recording_method(tmp_path / "log"), tmp_path)
    study_dir = _write(tmp_path, ledger)
    assert _header(study_dir / "eval_trials.csv") == EVAL_TRIAL_COLUMNS
    trials = _rows(study_dir / "eval_trials.csv")
    assert len(trials) == 4 * 2 * 2 * 5  # four cells x two protocols x two evaluation trials x five metrics
    for result in _rows(study_dir / "results.csv"):
        behind = [
            float(t["value"])
            for t in trials
            if all(t[k] == result[k] for k in ("variant", "dataset", "protocol", "seed", "metric"))
        ]
        assert sorted(behind) == [float(result["value"]) - 1.0, float(result["value"]) + 1.0]


def test_the_report_loader_accepts_the_tables(tmp_path: Path) -> None:
    ledger = fake_ledger(None, tmp_path, "smoke")
    run_fake(ledger, recording_method(tmp_path / "log"), tmp_path)
    data = load_report_tables(_write(tmp_path, ledger))
    assert len(data.results) == 4 * 2 * 5 and data.failures.empty


def _tiny_tuning_ledger(tmp_path: Path, trials: int) -> Ledger:
    spec = StudySpec(
        name="tiny_tune",
        description="test",
        variants=(Variant("mmm"),),
        reference="mmm",
        datasets=("sysu",),
        profiles=tuning_profiles(smoke=trials, quick=1, paper=1),
        search_space={"lambda_intra": FloatParam(0.1, 1.0), "lambda_inter": FloatParam(0.01, 0.1)},
    )
    return Ledger(parse_storage(None, tmp_path / spec.name), spec, synthetic_key(spec, "smoke"))


def test_importances_rank_the_parameter_that_drives_the_validation_objective_first(tmp_path: Path) -> None:
    ledger = _tiny_tuning_ledger(tmp_path, trials=8)
    # The objective moves with lambda_intra (up to 9 points) and barely with lambda_inter (under 0.1).
    method = recording_method(
        tmp_path / "log", score=lambda config: 40 + 10 * config.lambda_intra + config.lambda_inter
    )
    run_fake(ledger, method, tmp_path)
    importances = _rows(_write(tmp_path, ledger) / "importances.csv")
    assert [r["param"] for r in importances] == ["lambda_intra", "lambda_inter"]
    assert float(importances[0]["importance"]) > 0.9
    assert abs(sum(float(r["importance"]) for r in importances) - 1.0) < 1e-6
    assert "fANOVA" in importances[0]["note"] and "8 complete trials, objective val-all mAP" in importances[0]["note"]
    assert "rough ranking" in importances[0]["note"]


def test_importances_of_a_flat_objective_say_why_there_are_none(tmp_path: Path) -> None:
    ledger = _tiny_tuning_ledger(tmp_path, trials=3)
    run_fake(ledger, recording_method(tmp_path / "log", score=lambda config: 40.0), tmp_path)
    (row,) = _rows(_write(tmp_path, ledger) / "importances.csv")
    assert row["param"] == "" and "not computable" in row["note"] and "zero total variance" in row["note"]


def test_importances_need_two_complete_trials(tmp_path: Path) -> None:
    ledger = _tiny_tuning_ledger(tmp_path, trials=1)
    run_fake(ledger, recording_method(tmp_path / "log"), tmp_path)
    (row,) = _rows(_write(tmp_path, ledger) / "importances.csv")
    assert row["param"] == "" and "1 complete trial" in row["note"]


def test_provenance_names_its_sources(tmp_path: Path) -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        provenance = _provenance()
    finally:
        torch.set_num_threads(threads)
    assert provenance["command"] == "python -m harness.study smoke --profile smoke"
    assert provenance["data_source"] == "synthetic" and provenance["reference_variant"] == "full"
    assert provenance["variant_rows"]["cmc_only"] == "CMC only"
    assert set(provenance["versions"]) == {"python", "torch", "faiss", "optuna"}
    assert provenance["git_commit"] == code_identity().commit
    assert provenance["cpu_threads"] == 1  # the threads this process trains with, read when it writes
    json.dumps(provenance)


def _provenance() -> dict[str, object]:
    return collect_provenance(
        argv=["smoke", "--profile", "smoke"],
        spec=load_study("ablation_components"),
        profile="smoke",
        device="cpu",
        data_source="synthetic",
        data_roots={"sysu": None, "regdb": None},
        storage="x.journal",
        wall_seconds=1.5,
        cache={"hits": 1, "misses": 2},
        cells={"planned": 4},
    )
