"""Finishing a claimed cell: the one place that tells Optuna how an attempt ended, so that what "done", "failed"
and "not an attempt" mean to the cell statuses (harness.queue.status) is written where it is read."""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

from harness.queue.bookkeeping import ERROR, LOST


def complete_cell(study: optuna.Study, trial: optuna.Trial, value: float) -> None:
    """The run finished with `value` (the objective): the cell is done."""
    study.tell(trial, value)


def prune_cell(study: optuna.Study, trial: optuna.Trial) -> None:
    """A tuning run stopped early by the pruner: the cell is done, as Optuna counts pruned trials."""
    study.tell(trial, state=TrialState.PRUNED)


def fail_cell(study: optuna.Study, trial: optuna.Trial, error: str) -> None:
    """The attempt failed (or was interrupted) with `error`; the next run retries the cell."""
    trial.set_user_attr(ERROR, error)
    study.tell(trial, state=TrialState.FAIL)


def drop_claim(study: optuna.Study, trial: optuna.Trial) -> None:
    """Let go of a claim that another worker holds (lost at claiming, or taken over after a stall): it is no
    attempt at the cell, so it neither counts as a failure nor hides the holder's outcome."""
    trial.set_user_attr(LOST, True)
    study.tell(trial, state=TrialState.FAIL)
