"""Resuming: an interrupted or killed run leaves its finished cells intact and a re-run does only the rest;
failed cells are retried on the next run, not within the same one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from optuna.trial import TrialState

from harness.queue import CellState, Ledger, WorkerIdentity, parse_storage
from harness.spec import FloatParam, StudySpec, Variant, tuning_profiles
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.hooks import Diagnose, ProgressCallback, StageStore
from mmm.pipeline.result import RunResult
from tests.harness.fakes import (
    FAST_LEASES,
    TaskLike,
    fake_ledger,
    log_lines,
    logged,
    planned,
    recording_method,
    run_fake,
    synthetic_key,
)

REPO = Path(__file__).resolve().parents[2]
ALL_CELLS = ["full/sysu/seed0", "sca_off/sysu/seed0", "full/regdb/seed0/trial1", "sca_off/regdb/seed0/trial1"]


def _states(ledger: Ledger) -> dict[str, CellState]:
    statuses = ledger.statuses(planned(ledger), FAST_LEASES, WorkerIdentity.current())
    return {cell_id: status.state for cell_id, status in statuses.items()}


def _started(log: Path) -> list[str]:
    return [cell for cell, _pid in logged(log, "start")]


def test_a_rerun_after_an_interrupt_runs_only_the_missing_cells(tmp_path: Path) -> None:
    ledger = fake_ledger(None, tmp_path, "smoke")
    with pytest.raises(KeyboardInterrupt):
        run_fake(ledger, recording_method(tmp_path / "first.log", interrupt={"sca_off/sysu/seed0"}), tmp_path)
    assert _states(ledger) == {
        "full/sysu/seed0": CellState.DONE,
        "sca_off/sysu/seed0": CellState.FAILED,
        "full/regdb/seed0/trial1": CellState.PENDING,
        "sca_off/regdb/seed0/trial1": CellState.PENDING,
    }
    finished = [t for t in ledger.trials("sysu") if t.state == TrialState.COMPLETE]

    again = fake_ledger(None, tmp_path, "smoke")
    summary = run_fake(again, recording_method(tmp_path / "second.log"), tmp_path)
    assert _started(tmp_path / "second.log") == ALL_CELLS[1:]
    assert summary.already_done == 1 and summary.completed == ALL_CELLS[1:]
    assert set(_states(again).values()) == {CellState.DONE}
    kept = [t for t in again.trials("sysu") if t.state == TrialState.COMPLETE and t.number == finished[0].number]
    assert kept[0].user_attrs == finished[0].user_attrs


def test_a_failed_cell_is_retried_on_the_next_run_only(tmp_path: Path) -> None:
    ledger = fake_ledger(None, tmp_path, "smoke")
    broken = "full/regdb/seed0/trial1"
    summary = run_fake(ledger, recording_method(tmp_path / "first.log", fail={broken}), tmp_path)
    assert summary.failed == [broken]
    assert _started(tmp_path / "first.log").count(broken) == 1
    assert _states(ledger)[broken] is CellState.FAILED

    summary = run_fake(fake_ledger(None, tmp_path, "smoke"), recording_method(tmp_path / "second.log"), tmp_path)
    assert _started(tmp_path / "second.log") == [broken]
    assert summary.completed == [broken] and summary.already_done == 3


def test_a_finished_study_runs_nothing_again(tmp_path: Path) -> None:
    run_fake(fake_ledger(None, tmp_path, "smoke"), recording_method(tmp_path / "first.log"), tmp_path)
    summary = run_fake(fake_ledger(None, tmp_path, "smoke"), recording_method(tmp_path / "second.log"), tmp_path)
    assert summary.already_done == 4 and not _started(tmp_path / "second.log")


def test_a_killed_worker_leaves_finished_cells_and_its_cell_is_resumed(tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    blocked = "sca_off/sysu/seed0"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.harness.fakes",
            "--storage",
            str(tmp_path / "smoke" / "optuna.journal"),
            "--out",
            str(tmp_path),
            "--log",
            str(log),
            "--study",
            "smoke",
            "--block",
            blocked,
        ],
        cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 60
        while blocked not in _started(log):
            assert worker.poll() is None and time.monotonic() < deadline, "worker never reached the blocked cell"
            time.sleep(0.05)
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    ledger = fake_ledger(None, tmp_path, "smoke")
    assert _states(ledger)["full/sysu/seed0"] is CellState.DONE
    assert _states(ledger)[blocked] is CellState.ABANDONED

    summary = run_fake(ledger, recording_method(tmp_path / "rerun.log"), tmp_path)
    assert _started(tmp_path / "rerun.log") == ALL_CELLS[1:]
    assert summary.already_done == 1
    assert set(_states(ledger).values()) == {CellState.DONE}


def test_tuning_prunes_weak_trials_and_counts_them_done(tmp_path: Path) -> None:
    spec = StudySpec(
        name="tiny_tune",
        description="test",
        variants=(Variant("mmm"),),
        reference="mmm",
        datasets=("sysu",),
        profiles=tuning_profiles(smoke=5, quick=1, paper=1),
        search_space={"lambda_intra": FloatParam(0.1, 1.0)},
        prune_after_trials=2,
    )
    ledger = Ledger(parse_storage(None, tmp_path / spec.name), spec, synthetic_key(spec, "smoke"))
    # The first two trials report a high intermediate mAP, the rest a low one: the median pruner stops those.
    method = recording_method(tmp_path / "tune.log", map_values=lambda call: 50.0 if call <= 2 else 10.0)
    summary = run_fake(ledger, method, tmp_path)
    assert len(summary.completed) == 2 and len(summary.pruned) == 3
    states = [t.state for t in ledger.trials("sysu")]
    assert states.count(TrialState.COMPLETE) == 2 and states.count(TrialState.PRUNED) == 3
    assert all("lambda_intra" in t.params for t in ledger.trials("sysu"))

    again = run_fake(ledger, recording_method(tmp_path / "again.log"), tmp_path)
    assert again.already_done == 5 and not log_lines(tmp_path / "again.log")


def test_a_run_without_the_objective_metric_is_a_failure_with_a_reason(tmp_path: Path) -> None:
    def no_metrics(
        config: PipelineConfig,
        task: TaskLike,
        *,
        device: torch.device,
        cache_dir: Path,
        store: StageStore | None = None,
        on_progress: ProgressCallback | None = None,
        diagnose: Diagnose | None = None,
    ) -> RunResult:
        return RunResult(metrics={})

    ledger = fake_ledger(None, tmp_path, "smoke")
    summary = run_fake(ledger, no_metrics, tmp_path)
    assert len(summary.failed) == 4
    statuses = ledger.statuses(planned(ledger), FAST_LEASES, WorkerIdentity.current())
    assert "no mAP for protocol 'all'" in statuses["full/sysu/seed0"].error
