"""Claiming cells so that workers sharing one storage never run the same cell twice.

A claim is an Optuna trial. The worker creates a RUNNING trial (`study.ask()`), labels it with one user
attribute naming the cell, its host, pid and a random token, and then reads the study back. It holds the cell
when no *earlier* trial (smaller trial number) of the same cell is complete, pruned, or running with a live
lease; otherwise it marks its trial lost (FAIL + harness.lost) and moves on.

Why that is safe: trial numbers follow the storage's own write order (the journal file is appended under its
file lock and replayed in file order; SQLite serialises writers), and the worker decides only after its own
label is stored. So of two claims of one cell the later one always sees the earlier one — labelled, or still
unlabelled, in which case it waits until the label appears or the trial's lease runs out. The earlier claim
never yields to a later one. On PostgreSQL/MySQL a trial number can become visible after a later one, so the
winner waits `settle_seconds` and decides again before it starts.

Leases: a running claim writes a heartbeat every `heartbeat_seconds`; with none for `grace_seconds` it is dead
and its cell may be claimed again. A claim from this host whose process is gone (pid and start time no longer
match a live process) is dead at once, so re-running after a kill resumes immediately. A worker whose lease
was taken over (it stalled past the grace) notices on its next heartbeat and stops its run.
"""

from __future__ import annotations

import enum
import logging
import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterable

import optuna
import psutil
from optuna.trial import FrozenTrial, TrialState

from harness.queue.bookkeeping import CLAIM, HEARTBEAT, WON, cell_id_of, is_lost, source_of
from harness.queue.finish import drop_claim
from mmm.code_identity import CodeIdentity, code_identity

log = logging.getLogger(__name__)

FINISHED_OK = (TrialState.COMPLETE, TrialState.PRUNED)


@dataclass(frozen=True)
class LeasePolicy:
    heartbeat_seconds: float = 20.0  # how often a running claim proves it is alive
    grace_seconds: float = 120.0  # silence after which a claim is dead
    settle_seconds: float = 0.0  # wait and re-check after winning (storages whose trial order can lag commits)
    poll_seconds: float = 0.2  # re-read interval while an earlier claim is still unlabelled
    recheck_seconds: float = 10.0  # re-read interval of a worker waiting for cells other workers hold


@dataclass(frozen=True)
class WorkerIdentity:
    """Who holds a claim: enough to tell, on the same host, whether that process still exists, and the code it
    runs (recorded with every claim: a cell finished by other code is stale to this worker)."""

    host: str
    pid: int
    started: float  # process creation time; a reused pid has a different one
    code: CodeIdentity = field(default_factory=code_identity, compare=False)

    @classmethod
    def current(cls) -> "WorkerIdentity":
        process = psutil.Process()
        return cls(socket.gethostname(), process.pid, process.create_time())


def finished_here(trial: FrozenTrial, me: WorkerIdentity) -> bool:
    """A complete (or pruned) trial made by the code `me` runs: the cell is done for this worker. A trial
    finished by other code (another source hash, or none recorded) is stale."""
    return trial.state in FINISHED_OK and source_of(trial) == me.code.source


def process_alive(pid: int, started: float) -> bool:
    try:
        process = psutil.Process(pid)
        return abs(process.create_time() - started) < 1.0 and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def last_sign_of_life(trial: FrozenTrial) -> float:
    """Epoch seconds of a claim's latest heartbeat, its claim time, or else its trial start."""
    claim = trial.user_attrs.get(CLAIM) or {}
    times = [trial.user_attrs.get(HEARTBEAT), claim.get("at")]
    if trial.datetime_start is not None:
        times.append(trial.datetime_start.timestamp())
    return max(float(t) for t in times if t is not None)


def is_dead(trial: FrozenTrial, policy: LeasePolicy, me: WorkerIdentity, now: float) -> bool:
    """A RUNNING trial whose worker is gone: silent past the grace, or a vanished process on this host."""
    if trial.state != TrialState.RUNNING:
        return False
    if now - last_sign_of_life(trial) > policy.grace_seconds:
        return True
    claim = trial.user_attrs.get(CLAIM) or {}
    pid, started = claim.get("pid"), claim.get("started")
    if claim.get("host") != me.host or pid is None or started is None or (pid, started) == (me.pid, me.started):
        return False
    return not process_alive(int(pid), float(started))


class Verdict(enum.Enum):
    WIN = "win"
    LOSE = "lose"
    WAIT = "wait"


def judge(
    number: int,
    token: str,
    cell_id: str,
    trials: Iterable[FrozenTrial],
    alive: Callable[[FrozenTrial], bool],
    current: Callable[[FrozenTrial], bool],
) -> Verdict:
    """Whether the claim with trial `number` (and `token`, the tie-break) holds `cell_id`, given every trial of
    the study. `alive(t)` says whether a RUNNING trial's lease is live; `current(t)` whether a finished trial
    counts (one made by other code does not: its cell is claimed again and re-run)."""
    undecided = False
    for trial in trials:
        claim = trial.user_attrs.get(CLAIM)
        other_token = str(claim.get("token")) if isinstance(claim, dict) else ""
        if other_token == token or trial.number > number or (trial.number == number and other_token > token):
            continue
        if claim is None:
            # An earlier trial not labelled yet may be a claim of this cell: decide once it is labelled or dead.
            undecided = undecided or (trial.state == TrialState.RUNNING and alive(trial))
            continue
        if cell_id_of(trial) != cell_id or is_lost(trial):
            continue
        if (trial.state in FINISHED_OK and current(trial)) or (trial.state == TrialState.RUNNING and alive(trial)):
            return Verdict.LOSE
    return Verdict.WAIT if undecided else Verdict.WIN


def claim_cell(
    study: optuna.Study,
    cell_id: str,
    policy: LeasePolicy,
    me: WorkerIdentity,
    *,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> optuna.Trial | None:
    """A RUNNING trial holding `cell_id`, or None when another worker holds it or it is done (by the code `me`
    runs: a cell finished by other code is claimed again)."""
    trial = study.ask()
    token = uuid.uuid4().hex
    claim = {"cell": cell_id, "host": me.host, "pid": me.pid, "started": me.started, "token": token, "at": clock()}
    trial.set_user_attr(CLAIM, {**claim, "code": me.code.as_dict()})
    settled = policy.settle_seconds <= 0
    while True:
        now = clock()
        verdict = judge(
            trial.number,
            token,
            cell_id,
            study.get_trials(deepcopy=False),
            lambda t: not is_dead(t, policy, me, now),
            lambda t: finished_here(t, me),
        )
        if verdict is Verdict.LOSE:
            drop_claim(study, trial)
            log.debug("cell %s is held by another worker", cell_id)
            return None
        if verdict is Verdict.WIN and settled:
            trial.set_user_attr(WON, True)
            return trial
        if verdict is Verdict.WIN:
            settled = True
            sleep(policy.settle_seconds)
        else:
            sleep(policy.poll_seconds)


def superseded(trial_number: int, cell_id: str, trials: Iterable[FrozenTrial]) -> bool:
    """Whether a later claim of the cell has won or finished: this worker's lease was taken over."""
    return any(
        t.number > trial_number
        and cell_id_of(t) == cell_id
        and not is_lost(t)
        and (t.state in FINISHED_OK or (t.state == TrialState.RUNNING and t.user_attrs.get(WON)))
        for t in trials
    )
