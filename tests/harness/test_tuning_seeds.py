"""The tuning study's sampler is seeded: the same study proposes the same parameters when run again (random start-up
trials and TPE proper alike), while workers sharing one storage, and other run seeds, draw different ones."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import optuna

from harness.cells import Cell, plan_cells
from harness.queue import LeasePolicy, Ledger, WorkerIdentity, claim_cell, complete_cell, parse_storage
from harness.registry import load_study
from harness.run_key import RunKey
from harness.spec import ProfilePlan

POLICY = LeasePolicy(heartbeat_seconds=0.1, grace_seconds=60.0, poll_seconds=0.01)
SPEC = load_study("tune")
KEY = RunKey("smoke", {"sysu": "synthetic@test"}, "none")
# Past TPESampler's 10 random start-up trials, so that TPE's own proposals are compared too.
TRIALS = 13


def _ledger(storage_dir: Path, seed: int = 0) -> Ledger:
    return Ledger(parse_storage(None, storage_dir), SPEC, KEY, seed=seed)


def _cells(count: int) -> list[Cell]:
    spec = dataclasses.replace(SPEC, profiles={**SPEC.profiles, "smoke": ProfilePlan(n_trials=count)})
    return plan_cells(spec, "smoke", datasets=("sysu",))


def _propose(ledger: Ledger, cell: Cell, me: WorkerIdentity) -> tuple[optuna.Trial, dict[str, Any]]:
    """Claim `cell` as the runner does and draw its parameters: (the claimed trial, the parameters)."""
    study = ledger.study(cell.dataset)
    trial = claim_cell(study, cell.id, POLICY, me)
    assert trial is not None
    return trial, {name: param.suggest(trial, name) for name, param in SPEC.search_space.items()}


def _score(params: dict[str, Any]) -> float:
    """A made-up objective, so that TPE has something to model."""
    return -abs(math.log(params["lambda_intra"])) - params["eps"] + params["memories"] / 10


def _run(storage_dir: Path, seed: int = 0) -> list[dict[str, Any]]:
    """Every proposal of a tuning study run by one worker to the end."""
    ledger, me = _ledger(storage_dir, seed), WorkerIdentity.current()
    proposals = []
    for cell in _cells(TRIALS):
        trial, params = _propose(ledger, cell, me)
        complete_cell(ledger.study(cell.dataset), trial, _score(params))
        proposals.append(params)
    return proposals


def test_the_same_study_proposes_the_same_parameters_when_run_again(tmp_path: Path) -> None:
    first, again = _run(tmp_path / "first"), _run(tmp_path / "again")
    assert first == again
    assert len({tuple(sorted(p.items())) for p in first}) == TRIALS


def test_another_run_seed_proposes_other_parameters(tmp_path: Path) -> None:
    ledger, other = _ledger(tmp_path / "seed0"), _ledger(tmp_path / "seed1", seed=1)
    cell, me = _cells(1)[0], WorkerIdentity.current()
    assert _propose(ledger, cell, me)[1] != _propose(other, cell, me)[1]


def test_workers_sharing_a_storage_draw_different_parameters(tmp_path: Path) -> None:
    # Two workers, here and on another host: each its own ledger, Optuna study and sampler, on one journal.
    here, elsewhere = WorkerIdentity.current(), WorkerIdentity("another-host", 1, 0.0)
    first, second = _cells(2)
    _, here_params = _propose(_ledger(tmp_path), first, here)
    _, elsewhere_params = _propose(_ledger(tmp_path), second, elsewhere)
    assert here_params != elsewhere_params
    # Seeds follow trials, not workers: the other worker alone on a fresh storage draws what the first one did.
    _, alone = _propose(_ledger(tmp_path / "alone"), first, elsewhere)
    assert alone == here_params
