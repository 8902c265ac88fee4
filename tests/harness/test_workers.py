"""Worker processes started with the same command and storage share the cells: each cell runs exactly once, and
the work is spread over them. On every engine — journal file, SQLite and PostgreSQL — including when one of
three workers is SIGKILLed mid-cell: the survivors take its cell over and finish the study."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Callable

import pytest
from optuna.trial import TrialState

from harness.queue import CellState, WorkerIdentity
from harness.queue.bookkeeping import LOST, cell_id_of
from tests.harness.fakes import FAST_LEASES, fake_ledger, logged, planned

REPO = Path(__file__).resolve().parents[2]
SEEDS = 2  # memories: 5 variants (n1, n2, n4, n8, oracle_matching) x 2 datasets x 2 seeds = 20 cells
ENGINES = ["journal", "sqlite", "postgresql"]


def _command(url: str, out: Path, log: Path, seeds: int, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tests.harness.fakes",
        "--storage",
        url,
        "--out",
        str(out),
        "--log",
        str(log),
        "--study",
        "memories",
        "--seeds",
        str(seeds),
        *extra,
    ]


def _finish(workers: list[subprocess.Popen[str]]) -> None:
    for worker in workers:
        _, stderr = worker.communicate(timeout=300)
        assert worker.returncode == 0, stderr


@pytest.mark.parametrize("storage_url", ENGINES, indirect=True)
def test_two_workers_run_each_cell_exactly_once(tmp_path: Path, storage_url: str) -> None:
    log = tmp_path / "runs.log"
    command = _command(storage_url, tmp_path, log, SEEDS, "--sleep", "0.3")
    workers = [subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    _finish(workers)

    ledger = fake_ledger(storage_url, tmp_path, "memories", read_only=True)
    cells = planned(ledger, SEEDS)
    starts = Counter(cell for cell, _pid in logged(log, "start"))
    assert len(cells) == 20
    assert starts == Counter({cell.id: 1 for cell in cells})
    assert {pid for _cell, pid in logged(log, "done")} == {w.pid for w in workers}

    statuses = ledger.statuses(cells, FAST_LEASES, WorkerIdentity.current())
    assert {s.state for s in statuses.values()} == {CellState.DONE}
    trials = ledger.trials("sysu") + ledger.trials("regdb")
    complete = Counter(cell_id_of(t) for t in trials if t.state == TrialState.COMPLETE)
    assert set(complete.values()) == {1}
    assert all(t.user_attrs.get(LOST) for t in trials if t.state == TrialState.FAIL)


@pytest.mark.parametrize(
    ("storage_url", "elsewhere"),
    # A worker on another host matters most where several machines share a server: PostgreSQL.
    [*((engine, False) for engine in ENGINES), ("postgresql", True)],
    ids=[*(f"{engine}-same-host" for engine in ENGINES), "postgresql-other-host"],
    indirect=["storage_url"],
)
def test_three_workers_finish_the_study_when_one_is_killed_mid_cell(
    tmp_path: Path, storage_url: str, elsewhere: bool
) -> None:
    """The victim claims the first cell and blocks in it; two more workers join; the victim is SIGKILLed. On this
    host its dead pid frees the cell at once; as a worker of another host only its lease's grace does."""
    log = tmp_path / "runs.log"
    seeds = 1  # 8 cells
    victim_cell = "n1/sysu/seed0"
    grace = "3" if elsewhere else "60"
    victim_host = ["--host", "another-host"] if elsewhere else []
    victim = subprocess.Popen(
        _command(storage_url, tmp_path, log, seeds, "--block", victim_cell, "--grace", grace, *victim_host),
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    survivors: list[subprocess.Popen[str]] = []
    try:
        _wait_for(lambda: (victim_cell, victim.pid) in logged(log, "start"), victim, "the victim to start its cell")
        command = _command(storage_url, tmp_path, log, seeds, "--sleep", "0.2", "--grace", grace)
        survivors = [subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True) for _ in range(2)]
        _wait_for(lambda: len(logged(log, "done")) >= 1, victim, "a survivor to finish a cell")
    finally:
        if victim.poll() is None:
            os.kill(victim.pid, signal.SIGKILL)
        victim.communicate()
    _finish(survivors)

    ledger = fake_ledger(storage_url, tmp_path, "memories", read_only=True)
    cells = planned(ledger, seeds)
    starts = Counter(cell for cell, _pid in logged(log, "start"))
    assert starts == Counter({cell.id: 2 if cell.id == victim_cell else 1 for cell in cells})
    done_by = {cell: pid for cell, pid in logged(log, "done")}
    assert set(done_by) == {cell.id for cell in cells}
    assert set(done_by.values()) <= {w.pid for w in survivors} and victim.pid not in done_by.values()
    statuses = ledger.statuses(cells, FAST_LEASES, WorkerIdentity.current())
    assert {s.state for s in statuses.values()} == {CellState.DONE}
    trials = ledger.trials("sysu") + ledger.trials("regdb")
    complete = Counter(cell_id_of(t) for t in trials if t.state == TrialState.COMPLETE)
    assert complete == Counter({cell.id: 1 for cell in cells})


def _wait_for(condition: Callable[[], bool], victim: subprocess.Popen[str], what: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert victim.poll() is None, f"the victim exited early: {victim.stderr.read() if victim.stderr else ''}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
