"""Where each cell stands, read from the stored trials: the one place that decides what "done" means."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Iterable

from optuna.trial import FrozenTrial, TrialState

from harness.queue.bookkeeping import ERROR, cell_id_of, is_lost
from harness.queue.claims import FINISHED_OK, LeasePolicy, WorkerIdentity, is_dead


class CellState(str, enum.Enum):
    DONE = "done"  # a complete (or, when tuning, pruned) trial exists
    RUNNING = "running"  # a worker holds it with a live lease
    STALE = "stale"  # its worker went silent or died; the next run takes it over
    FAILED = "failed"  # its last attempt raised (or was interrupted); the next run retries it
    PENDING = "pending"  # never attempted


@dataclass(frozen=True)
class CellStatus:
    state: CellState
    trial: FrozenTrial | None = None  # the finished trial when done, else the latest attempt
    error: str = ""


def cell_statuses(
    cell_ids: Iterable[str], trials: Iterable[FrozenTrial], policy: LeasePolicy, me: WorkerIdentity, now: float
) -> dict[str, CellStatus]:
    """The status of every cell in `cell_ids` given every trial of its Optuna study."""
    attempts: dict[str, list[FrozenTrial]] = {}
    for trial in sorted(trials, key=lambda t: t.number):
        cell_id = cell_id_of(trial)
        if cell_id is not None and not is_lost(trial):
            attempts.setdefault(cell_id, []).append(trial)
    return {cell_id: _status(attempts.get(cell_id, []), policy, me, now) for cell_id in cell_ids}


def _status(attempts: list[FrozenTrial], policy: LeasePolicy, me: WorkerIdentity, now: float) -> CellStatus:
    finished = [t for t in attempts if t.state in FINISHED_OK]
    if finished:
        return CellStatus(CellState.DONE, finished[0])
    running = [t for t in attempts if t.state == TrialState.RUNNING]
    live = [t for t in running if not is_dead(t, policy, me, now)]
    if live:
        return CellStatus(CellState.RUNNING, live[-1])
    if running:
        return CellStatus(CellState.STALE, running[-1], "worker stopped without finishing the cell")
    if attempts:
        latest = attempts[-1]
        return CellStatus(CellState.FAILED, latest, str(latest.user_attrs.get(ERROR, "")))
    return CellStatus(CellState.PENDING)
