"""Where each cell stands, read from the stored trials: the one place that decides what "done" means.

A cell is done when a trial made by the code this worker runs finished it (the method's source hash,
mmm.code_identity, recorded with every claim). A cell finished only by other code is stale: a run re-runs it,
unless stale results are kept on purpose (`keep_stale`, the command's --keep-stale), and then it counts as done
and its status says it is stale, so the tables can mark it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Iterable

from optuna.trial import FrozenTrial, TrialState

from harness.queue.bookkeeping import ERROR, cell_id_of, code_of, is_lost
from harness.queue.claims import FINISHED_OK, LeasePolicy, WorkerIdentity, finished_here, is_dead


class CellState(str, enum.Enum):
    DONE = "done"  # a complete (or, when tuning, pruned) trial made by this code exists
    RUNNING = "running"  # a worker holds it with a live lease
    STALE = "stale"  # finished only by other code; the next run re-runs it (unless stale results are kept)
    ABANDONED = "abandoned"  # its worker went silent or died; the next run takes it over
    FAILED = "failed"  # its last attempt raised (or was interrupted); the next run retries it
    PENDING = "pending"  # never attempted


@dataclass(frozen=True)
class CellStatus:
    state: CellState
    trial: FrozenTrial | None = None  # the finished trial when done (or stale), else the latest attempt
    error: str = ""
    stale: bool = False  # the finished trial came from other code (kept, as DONE, only when asked to keep it)

    @property
    def label(self) -> str:
        """What the dry run and the failures table call it: "stale" for a kept stale result too."""
        return CellState.STALE.value if self.stale else self.state.value


def cell_statuses(
    cell_ids: Iterable[str],
    trials: Iterable[FrozenTrial],
    policy: LeasePolicy,
    me: WorkerIdentity,
    now: float,
    keep_stale: bool = False,
) -> dict[str, CellStatus]:
    """The status of every cell in `cell_ids` given every trial of its Optuna study, for a worker running
    `me.code`; with `keep_stale`, a cell finished only by other code is DONE (and marked stale)."""
    attempts: dict[str, list[FrozenTrial]] = {}
    for trial in sorted(trials, key=lambda t: t.number):
        cell_id = cell_id_of(trial)
        if cell_id is not None and not is_lost(trial):
            attempts.setdefault(cell_id, []).append(trial)
    return {cell_id: _status(attempts.get(cell_id, []), policy, me, now, keep_stale) for cell_id in cell_ids}


def _status(
    attempts: list[FrozenTrial], policy: LeasePolicy, me: WorkerIdentity, now: float, keep_stale: bool
) -> CellStatus:
    current = [t for t in attempts if finished_here(t, me)]
    if current:
        return CellStatus(CellState.DONE, current[0])
    stale = [t for t in attempts if t.state in FINISHED_OK]
    if stale and keep_stale:
        return CellStatus(CellState.DONE, stale[-1], stale=True)
    running = [t for t in attempts if t.state == TrialState.RUNNING]
    live = [t for t in running if not is_dead(t, policy, me, now)]
    if live:
        return CellStatus(CellState.RUNNING, live[-1])
    if stale:
        return CellStatus(CellState.STALE, stale[-1], _other_code(stale[-1], me), stale=True)
    if running:
        return CellStatus(CellState.ABANDONED, running[-1], "worker stopped without finishing the cell")
    if attempts:
        latest = attempts[-1]
        return CellStatus(CellState.FAILED, latest, str(latest.user_attrs.get(ERROR, "")))
    return CellStatus(CellState.PENDING)


def _other_code(trial: FrozenTrial, me: WorkerIdentity) -> str:
    code = code_of(trial)
    made_by = "code that recorded no identity" if code is None else code.describe()
    return f"finished by other code: {made_by}; this code is {me.code.describe()}"
