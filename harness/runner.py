"""The worker loop: for each cell not done and not held elsewhere, claim it, run its method under a heartbeat,
and store everything the run produced on the claiming trial.

A cell that fails is recorded (FAIL + error) and left for the next run; an interrupt (Ctrl-C, SIGTERM turned
into KeyboardInterrupt by the CLI) records the cell as failed and stops the loop, so a re-run resumes it.

A worker returns only when every cell is settled: once nothing is left to claim it waits for the cells other
workers hold, and takes over any whose worker stops (dead on this host, or silent past the lease's grace on
another), so a worker on one machine never reports success while a dead peer's cell is missing.
"""

from __future__ import annotations

import logging
import math
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import optuna
import torch
from optuna.trial import TrialState

from harness.cells import VALIDATION, Cell
from harness.feature_files import cell_feature_file, keep_features
from harness.methods import Method
from harness.progress import Display
from harness.queue import (
    LOST_STORAGE,
    CellState,
    Heartbeat,
    LeasePolicy,
    Ledger,
    WorkerIdentity,
    claim_cell,
    complete_cell,
    drop_claim,
    fail_cell,
    prune_cell,
)
from harness.records import CELL, CONFIG, FEATURES, PARAMS, TASK, jsonable, primary_value, result_attrs
from harness.spec import StudySpec
from mmm.choices import OBJECTIVE_PROTOCOLS, PRIMARY_METRIC, PRIMARY_PROTOCOLS
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.hooks import Diagnose, ProgressEvent, StageStore
from mmm.pipeline.result import RunResult
from mmm.pipeline.tasks import Task

log = logging.getLogger(__name__)

# The trial's value: the primary protocol's mAP (SYSU all-search, RegDB visible->IR), on the validation split for a
# search trial (the tuning objective, also what the pruner compares), on the test set for every other cell.
OBJECTIVE_METRIC = PRIMARY_METRIC


def value_protocol(cell: Cell) -> str:
    """The protocol whose mAP is the cell's trial value."""
    protocols = OBJECTIVE_PROTOCOLS if cell.scored_on == VALIDATION else PRIMARY_PROTOCOLS
    return protocols[cell.dataset]


@dataclass(frozen=True)
class CellEnvironment:
    """What running a cell needs besides the cell: built from the real pipeline by harness.environment, or
    from small fakes by the harness's own tests."""

    methods: Mapping[str, Method]
    make_config: Callable[[Cell, Mapping[str, Any]], PipelineConfig]  # (cell, sampled params) -> config
    make_task: Callable[[Cell, PipelineConfig], Task]
    make_diagnose: Callable[[Task], Diagnose | None]
    device: str
    cache_dir: Path  # data and decoded-image cache handed to the method
    store: StageStore | None = None
    explain: Callable[[BaseException], str | None] = lambda error: None  # a hint appended to a failure's message
    tables_dir: Path | None = None  # the folder of the tables the cells' runs go to: their feature files go there


@dataclass
class RunSummary:
    completed: list[str] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    already_done: int = 0  # done before this worker started
    done_elsewhere: list[str] = field(default_factory=list)  # finished by other workers while this one worked
    failed_elsewhere: list[str] = field(default_factory=list)  # another worker's attempt failed meanwhile
    held_elsewhere: list[str] = field(default_factory=list)  # still held by other workers when this one stopped
    interrupted: str | None = None  # the cell that was running when the run was interrupted

    @property
    def unfinished(self) -> list[str]:
        """Cells this run leaves without a result."""
        own = self.failed + ([self.interrupted] if self.interrupted else [])
        return own + self.failed_elsewhere + self.held_elsewhere


class RunInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped the run; `summary` says what it had done by then."""

    def __init__(self, summary: RunSummary) -> None:
        super().__init__("run interrupted")
        self.summary = summary


class CellSuperseded(Exception):
    """Another worker took this cell over (this one stalled past its lease); the run stops."""


class _Progress:
    """The ProgressCallback of one cell: display, lease check, and (tuning) intermediate mAP for pruning."""

    def __init__(self, trial: optuna.Trial, heartbeat: Heartbeat, display: Display, report: bool) -> None:
        self._trial = trial
        self._heartbeat = heartbeat
        self._display = display
        self._report = report
        self._step = 0

    def __call__(self, event: ProgressEvent) -> None:
        if self._heartbeat.lost.is_set():
            raise CellSuperseded(f"trial {self._trial.number} lost its lease")
        if self._heartbeat.storage_lost is not None:
            raise self._heartbeat.storage_lost
        self._display.event(event)
        if self._report and OBJECTIVE_METRIC in event.values:
            self._trial.report(float(event.values[OBJECTIVE_METRIC]), self._step)
            self._step += 1
            if self._trial.should_prune():
                raise optuna.TrialPruned(f"intermediate {OBJECTIVE_METRIC} below the median at step {self._step}")


def run_cells(
    cells: Sequence[Cell],
    ledger: Ledger,
    env: CellEnvironment,
    *,
    policy: LeasePolicy,
    me: WorkerIdentity,
    bars: bool = False,
) -> RunSummary:
    """Run every cell that is not done, waiting for those other workers hold; return what happened. An interrupt
    raises RunInterrupted (a KeyboardInterrupt) carrying the summary so far."""
    summary = RunSummary()
    initially_done = sum(s.state is CellState.DONE for s in ledger.statuses(cells, policy, me).values())
    try:
        with Display(len(cells), initially_done, bars=bars) as display:
            waiting = _pass(cells, ledger, env, policy, me, display, summary, first=True)
            announced: list[str] = []
            while waiting:
                summary.held_elsewhere = [cell.id for cell in waiting]
                if summary.held_elsewhere != announced:
                    announced = summary.held_elsewhere
                    log.info(
                        "waiting for %d cell(s) held by other workers (%s); a cell whose worker stops is taken "
                        "over (after %.0f s without a heartbeat when it ran on another host)",
                        len(waiting),
                        ", ".join(announced),
                        policy.grace_seconds,
                    )
                time.sleep(policy.recheck_seconds)
                waiting = _pass(waiting, ledger, env, policy, me, display, summary, first=False)
            summary.held_elsewhere = []
    except KeyboardInterrupt as interrupt:
        raise RunInterrupted(summary) from interrupt
    return summary


def _pass(
    cells: Sequence[Cell],
    ledger: Ledger,
    env: CellEnvironment,
    policy: LeasePolicy,
    me: WorkerIdentity,
    display: Display,
    summary: RunSummary,
    *,
    first: bool,
) -> list[Cell]:
    """One pass over `cells`: run those free to claim; return those other workers hold. The first pass retries
    cells that failed in earlier runs; later passes record a failure of another worker's attempt instead."""
    waiting = []
    for cell in cells:
        state = ledger.statuses([cell], policy, me)[cell.id].state
        if state is CellState.DONE:
            if first:
                summary.already_done += 1
            else:
                summary.done_elsewhere.append(cell.id)
                display.cell_settled_elsewhere(cell, "done")
            continue
        if state is CellState.RUNNING:
            waiting.append(cell)
            continue
        if state is CellState.FAILED and not first:
            summary.failed_elsewhere.append(cell.id)
            display.cell_settled_elsewhere(cell, "failed")
            continue
        study = ledger.study(cell.dataset)
        trial = claim_cell(study, cell.id, policy, me)
        if trial is None:
            waiting.append(cell)
            continue
        display.cell_started(cell)
        started = time.perf_counter()
        try:
            outcome = _run_claimed(study, trial, cell, ledger.spec, env, policy, display)
        except KeyboardInterrupt:
            summary.interrupted = cell.id
            raise
        display.cell_finished(cell, outcome.name.lower(), time.perf_counter() - started)
        if outcome is TrialState.COMPLETE:
            summary.completed.append(cell.id)
        elif outcome is TrialState.PRUNED:
            summary.pruned.append(cell.id)
        else:
            summary.failed.append(cell.id)
    return waiting


def _run_claimed(
    study: optuna.Study,
    trial: optuna.Trial,
    cell: Cell,
    spec: StudySpec,
    env: CellEnvironment,
    policy: LeasePolicy,
    display: Display,
) -> TrialState:
    started = time.perf_counter()
    try:
        with Heartbeat(study, trial, cell.id, policy) as heartbeat:
            result = _execute(trial, cell, spec, env, _Progress(trial, heartbeat, display, spec.is_tuning))
    except optuna.TrialPruned:
        prune_cell(study, trial)
        return TrialState.PRUNED
    except CellSuperseded:
        drop_claim(study, trial)
        return TrialState.FAIL
    except LOST_STORAGE:
        # Not the cell's failure: the storage is gone, so nothing can be recorded; the command says so in one line.
        raise
    except Exception as error:
        hint = env.explain(error)
        log.error(
            "cell %s failed: %s%s",
            cell.id,
            error,
            f"; {hint}" if hint else "",
            exc_info=log.isEnabledFor(logging.DEBUG),
        )
        message = "".join(traceback.format_exception_only(error)).strip()
        fail_cell(study, trial, f"{message}; {hint}" if hint else message)
        return TrialState.FAIL
    except BaseException as interrupt:
        # Ctrl-C or SIGTERM: record the attempt as failed so the next run retries it at once, then stop.
        fail_cell(study, trial, f"interrupted ({type(interrupt).__name__})")
        raise
    for key, value in result_attrs(result, time.perf_counter() - started).items():
        trial.set_user_attr(key, value)
    if result.features is not None and env.tables_dir is not None:
        kept = keep_features(env.tables_dir, cell_feature_file(cell.id, trial.number), result.features)
        trial.set_user_attr(FEATURES, kept)
    protocol = value_protocol(cell)
    value = primary_value(result.metrics, protocol, OBJECTIVE_METRIC)
    if math.isnan(value):
        # Optuna would fail a NaN trial on its own; say why, so failures.csv shows it.
        log.error("cell %s returned no %s for protocol %s", cell.id, OBJECTIVE_METRIC, protocol)
        fail_cell(study, trial, f"the run returned no {OBJECTIVE_METRIC} for protocol {protocol!r}")
        return TrialState.FAIL
    complete_cell(study, trial, value)
    return TrialState.COMPLETE


def _execute(
    trial: optuna.Trial,
    cell: Cell,
    spec: StudySpec,
    env: CellEnvironment,
    progress: _Progress,
) -> RunResult:
    params = {name: param.suggest(trial, name) for name, param in spec.search_space.items()}
    config = env.make_config(cell, params)
    task = env.make_task(cell, config)
    trial.set_user_attr(CELL, cell.describe())
    trial.set_user_attr(PARAMS, jsonable({**cell.overrides, **params}))
    trial.set_user_attr(CONFIG, jsonable(config.to_dict()))
    described: dict[str, Any] = {"name": task.name, "fingerprint": task.fingerprint}
    if task.held_out:
        described.update(held_out=list(task.held_out), rule=task.rule)
    trial.set_user_attr(TASK, described)
    return env.methods[cell.method](
        config,
        task,
        device=torch.device(env.device),
        cache_dir=env.cache_dir,
        store=env.store,
        on_progress=progress,
        diagnose=env.make_diagnose(task),
    )
