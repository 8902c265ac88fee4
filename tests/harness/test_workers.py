"""Two worker processes started with the same command and storage share the cells: each cell runs exactly
once, and both workers do part of the work."""
from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from optuna.trial import TrialState

from harness.claims import WorkerIdentity
from harness.records import LOST, cell_id_of
from harness.status import CellState
from tests.harness.fakes import FAST_LEASES, fake_ledger, logged, planned

REPO = Path(__file__).resolve().parents[2]
SEEDS = 2  # memories: 4 variants x 2 datasets x 2 seeds = 16 cells


@pytest.mark.parametrize("storage", ["journal", "sqlite"])
def test_two_workers_run_each_cell_exactly_once(tmp_path: Path, storage: str) -> None:
    url = str(tmp_path / "shared.journal") if storage == "journal" else f"sqlite:///{tmp_path / 'shared.db'}"
    log = tmp_path / "runs.log"
    command = [sys.executable, "-m", "tests.harness.fakes", "--storage", url, "--out", str(tmp_path),
               "--log", str(log), "--study", "memories", "--seeds", str(SEEDS), "--sleep", "0.3"]
    workers = [subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for worker in workers:
        _, stderr = worker.communicate(timeout=240)
        assert worker.returncode == 0, stderr

    ledger = fake_ledger(url, tmp_path, "memories")
    cells = planned(ledger, SEEDS)
    starts = Counter(cell for cell, _pid in logged(log, "start"))
    assert len(cells) == 16
    assert starts == Counter({cell.id: 1 for cell in cells})
    assert {pid for _cell, pid in logged(log, "done")} == {w.pid for w in workers}

    statuses = ledger.statuses(cells, FAST_LEASES, WorkerIdentity.current())
    assert {s.state for s in statuses.values()} == {CellState.DONE}
    trials = ledger.trials("sysu") + ledger.trials("regdb")
    complete = Counter(cell_id_of(t) for t in trials if t.state == TrialState.COMPLETE)
    assert set(complete.values()) == {1}
    assert all(t.user_attrs.get(LOST) for t in trials if t.state == TrialState.FAIL)
