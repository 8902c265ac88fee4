"""Tidy tables from the stored trials, one CSV per kind of fact, under `<out>/<study>/`:

results.csv     one row per run x protocol x metric (percentages), with the source hash of the code that ran it
                and whether it is a stale result kept on purpose (--keep-stale)
epochs.csv      one row per run x epoch x recorded value (losses, cluster counts, diagnostics)
stages.csv      one row per run x stage: wall seconds and whether the stage came from the stage cache
eval_trials.csv one row per run x protocol x evaluation trial x metric: the values each results.csv mean
                averages (SYSU gallery draws; RegDB: the run's one trial)
failures.csv    one row per cell not done: failed, stale (finished by other code), abandoned, running elsewhere or
                never attempted
feature_space.csv one row per run (and reference) x modality-gap quantity of its kept test features
                (harness.feature_files), or one row naming why its feature file cannot be served
importances.csv tuning studies only: parameter importances per dataset, for the search's validation objective

Files are replaced atomically: several workers may write them as they finish.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import optuna
from optuna.trial import TrialState

from harness.atomic import atomic_write_text
from harness.cells import VALIDATION, Cell
from harness.feature_files import feature_rows
from harness.queue import CellState, LeasePolicy, Ledger, WorkerIdentity
from harness.records import StoredRun
from mmm.choices import OBJECTIVE_PROTOCOLS
from reports import schema

log = logging.getLogger(__name__)

# The headers come from the report's input contract, so writer and reader cannot drift apart.
RESULT_COLUMNS = schema.RESULTS.written
EPOCH_COLUMNS = schema.EPOCHS.written
EVAL_TRIAL_COLUMNS = schema.EVAL_TRIALS.written
STAGE_COLUMNS = schema.STAGE_TIMES.written
FAILURE_COLUMNS = schema.FAILURES.written
FEATURE_COLUMNS = schema.FEATURE_SPACE.written
IMPORTANCE_COLUMNS = schema.IMPORTANCES.written
MIN_TRIALS_FOR_IMPORTANCE = 2
# fANOVA with a fixed seed: on a dozen trials it names the parameter that drives the objective far more reliably
# than Optuna 4+'s default (PED-ANOVA, which reads the top tenth of the trials: one trial of twelve). Below
# FEW_TRIALS complete trials the note says the ranking is rough.
IMPORTANCE_EVALUATOR = "fANOVA (optuna.importance.FanovaImportanceEvaluator, seed 0)"
FEW_TRIALS = 10


def write_results(
    study_dir: Path,
    ledger: Ledger,
    cells: Sequence[Cell],
    policy: LeasePolicy,
    me: WorkerIdentity,
    reference_features: Sequence[dict[str, Any]] = (),
) -> int:
    """Write the tables of `cells` from `ledger`, feature_space.csv with the references' rows given; return how many
    finished runs they hold."""
    statuses = ledger.statuses(cells, policy, me)
    runs = [
        (cell, StoredRun(trial), statuses[cell.id].stale)
        for cell in cells
        if statuses[cell.id].state is CellState.DONE
        and (trial := statuses[cell.id].trial) is not None
        and trial.state == TrialState.COMPLETE
    ]
    failures = [
        {
            "cell_id": c.id,
            "variant": c.variant,
            "dataset": c.dataset,
            "seed": c.seed,
            "state": statuses[c.id].label,
            "error": statuses[c.id].error,
        }
        for c in cells
        if statuses[c.id].state is not CellState.DONE
    ]
    tables = {
        schema.RESULTS.filename: (
            RESULT_COLUMNS,
            [row for cell, run, stale in runs for row in _metric_rows(cell, run, stale)],
        ),
        schema.EVAL_TRIALS.filename: (
            EVAL_TRIAL_COLUMNS,
            [row for cell, run, _ in runs for row in _eval_trial_rows(cell, run)],
        ),
        schema.EPOCHS.filename: (EPOCH_COLUMNS, [row for cell, run, _ in runs for row in _epoch_rows(cell, run)]),
        schema.STAGE_TIMES.filename: (
            STAGE_COLUMNS,
            [row for cell, run, _ in runs for row in _stage_rows(cell, run)],
        ),
        schema.FAILURES.filename: (FAILURE_COLUMNS, failures),
        schema.FEATURE_SPACE.filename: (
            FEATURE_COLUMNS,
            [
                row
                for cell, run, _ in runs
                if cell.scored_on != VALIDATION
                for row in _feature_rows(cell, run, study_dir)
            ]
            + list(reference_features),
        ),
    }
    if ledger.spec.is_tuning:
        datasets = sorted({c.dataset for c in cells})
        tables[schema.IMPORTANCES.filename] = (IMPORTANCE_COLUMNS, list(_importance_rows(ledger, datasets)))
    for name, (columns, rows) in tables.items():
        atomic_write_text(study_dir / name, tidy_csv(columns, rows))
    return len(runs)


def _keys(cell: Cell) -> dict[str, Any]:
    return {
        "study": cell.study,
        "variant": cell.variant,
        "dataset": cell.dataset,
        "seed": cell.seed,
        "regdb_trial": cell.regdb_trial,
    }


def _metric_rows(cell: Cell, run: StoredRun, stale: bool) -> Iterator[dict[str, Any]]:
    """`stale`: the run was made by other code and kept on purpose (--keep-stale); `code` names that code."""
    params = json.dumps(run.params, sort_keys=True)
    code = run.code
    for protocol, metrics in sorted(run.metrics.items()):
        for metric, value in metrics.items():
            yield {
                **_keys(cell),
                "method": cell.method,
                "protocol": protocol,
                "metric": metric,
                "value": value,
                "optuna_trial": run.trial.number,
                "params_json": params,
                "code": "" if code is None else code.source,
                "stale": stale,
            }


def _feature_rows(cell: Cell, run: StoredRun, study_dir: Path) -> list[dict[str, Any]]:
    # A search trial is scored on validation identities and keeps no test features.
    return feature_rows({**_keys(cell), "method": cell.method}, study_dir, run.features)


def _eval_trial_rows(cell: Cell, run: StoredRun) -> Iterator[dict[str, Any]]:
    for protocol, trials in sorted(run.trial_metrics.items()):
        for trial, metrics in sorted(trials.items(), key=lambda item: int(item[0])):
            for metric, value in metrics.items():
                yield {
                    **_keys(cell),
                    "method": cell.method,
                    "protocol": protocol,
                    "eval_trial": int(trial),
                    "metric": metric,
                    "value": value,
                }


def _epoch_rows(cell: Cell, run: StoredRun) -> Iterator[dict[str, Any]]:
    for record in run.epochs:
        values = {k: v for k, v in record.items() if k not in ("stage", "epoch")}
        for name, value in _flatten(values, ""):
            yield {
                **_keys(cell),
                "stage": record.get("stage"),
                "epoch": record.get("epoch"),
                "name": name,
                "value": value,
            }


def _flatten(values: dict[str, Any], prefix: str) -> Iterator[tuple[str, float]]:
    """Numeric leaves of nested dicts as ("outer.inner", value); text and lists are not tidy values."""
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, f"{name}.")
        elif isinstance(value, (int, float)):
            yield name, float(value)


def _stage_rows(cell: Cell, run: StoredRun) -> Iterator[dict[str, Any]]:
    cached = {s.lower() for s in run.stages_cached}
    for stage, seconds in run.stage_seconds.items():
        yield {**_keys(cell), "stage": stage, "seconds": seconds, "cached": stage.lower() in cached}


def _importance_rows(ledger: Ledger, datasets: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Importances of the searched parameters for the search's objective (validation mAP), from its complete trials
    (Optuna leaves pruned ones out)."""
    for dataset in datasets:
        keys = {"study": ledger.spec.name, "dataset": dataset}
        complete = [t for t in ledger.trials(dataset) if t.state == TrialState.COMPLETE]
        if len(complete) < MIN_TRIALS_FOR_IMPORTANCE:
            note = f"{len(complete)} complete trial(s); importances need {MIN_TRIALS_FOR_IMPORTANCE}"
            yield {**keys, "param": "", "importance": "", "note": note}
            continue
        study = ledger.stored_study(dataset)
        if study is None:  # trials were read from it a moment ago
            raise RuntimeError(f"the Optuna study of {dataset} vanished from the storage while it was read")
        try:
            importances = optuna.importance.get_param_importances(
                study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0)
            )
        except (RuntimeError, ValueError) as error:  # e.g. every trial drew the same values
            yield {**keys, "param": "", "importance": "", "note": f"not computable: {error}"}
            continue
        objective = f"{OBJECTIVE_PROTOCOLS[dataset]} mAP"
        note = f"{IMPORTANCE_EVALUATOR} over {len(complete)} complete trials, objective {objective}"
        if len(complete) < FEW_TRIALS:
            note += f"; fewer than {FEW_TRIALS} trials: a rough ranking"
        for param, importance in importances.items():
            yield {**keys, "param": param, "importance": importance, "note": note}


def tidy_csv(columns: Sequence[str], rows: Iterable[dict[str, Any]]) -> str:
    """CSV text of `rows` under `columns`, None written as an empty cell."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if row.get(k) is None else row[k] for k in columns})
    return buffer.getvalue()
