"""The input contract of a report: the tidy tables the harness writes under `<out_dir>/<study>/`, their
required columns and the values their categorical columns may take."""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Iterable, Mapping

DATASETS = ("sysu", "regdb")
PROTOCOLS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"sysu": ("all", "indoor"), "regdb": ("v2i", "i2v")}
)
METRICS = ("R1", "R10", "R20", "mAP", "mINP")
# A tuning study's objective: the mAP of this protocol per dataset (as harness/runner.py tells Optuna).
OBJECTIVE_PROTOCOLS: Mapping[str, str] = MappingProxyType({"sysu": "all", "regdb": "v2i"})
OBJECTIVE_METRIC = "mAP"
# Stage names in pipeline order: loading the images, stage A, stage B (CMC), MMLM matching, stage C (SCA),
# evaluation. Others (a baseline's own second stage) are allowed and follow in order of appearance.
STAGES = ("images", "A", "B", "MMLM", "C", "eval")
DATA_SOURCES = ("synthetic", "real")
# Optional column of results.csv: "last" (the honest default) or "oracle" (best epoch chosen on the test set).
SELECTIONS = ("last", "oracle")

DATASET_LABELS: Mapping[str, str] = MappingProxyType({"sysu": "SYSU-MM01", "regdb": "RegDB"})
PROTOCOL_LABELS: Mapping[str, str] = MappingProxyType(
    {"all": "all-search", "indoor": "indoor-search", "v2i": "visible→infrared", "i2v": "infrared→visible"}
)


def stage_order(stages: Iterable[str]) -> list[str]:
    """The distinct stage names given, known ones in pipeline order, then the rest as they first appear."""
    present = list(dict.fromkeys(stages))
    return [stage for stage in STAGES if stage in present] + [stage for stage in present if stage not in STAGES]


@dataclass(frozen=True)
class TableSpec:
    """One tidy CSV: its file name, the columns the report needs, the allowed values of categorical columns
    and the columns that must parse as numbers."""

    filename: str
    columns: tuple[str, ...]
    allowed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    numeric: tuple[str, ...] = ()


RESULTS = TableSpec(
    "results.csv",
    ("study", "variant", "method", "dataset", "protocol", "seed", "regdb_trial", "metric", "value"),
    allowed={"dataset": DATASETS, "metric": METRICS, "selection": SELECTIONS},
    numeric=("seed", "regdb_trial", "value"),
)
EPOCHS = TableSpec(
    "epochs.csv",
    ("study", "variant", "dataset", "seed", "regdb_trial", "stage", "epoch", "name", "value"),
    allowed={"dataset": DATASETS},
    numeric=("seed", "regdb_trial", "epoch", "value"),
)
# The values behind each results.csv mean: SYSU's gallery draws, RegDB's one trial per run.
EVAL_TRIALS = TableSpec(
    "eval_trials.csv",
    ("study", "variant", "dataset", "protocol", "seed", "regdb_trial", "eval_trial", "metric", "value"),
    allowed={"dataset": DATASETS, "metric": METRICS},
    numeric=("seed", "regdb_trial", "eval_trial", "value"),
)
STAGE_TIMES = TableSpec(
    "stages.csv",
    ("study", "variant", "dataset", "seed", "regdb_trial", "stage", "seconds", "cached"),
    allowed={"dataset": DATASETS},
    numeric=("seed", "regdb_trial", "seconds"),
)
FAILURES = TableSpec(
    "failures.csv", ("cell_id", "variant", "dataset", "seed", "state", "error"), numeric=("seed",)
)
IMPORTANCES = TableSpec("importances.csv", ("param", "importance"), numeric=("importance",))
# The untrained floor per (dataset, seed, RegDB trial): metric rows as in results.csv; a floor that could not be
# computed is one row with its error and no protocol, metric or value.
FLOOR = TableSpec(
    "floor.csv",
    ("dataset", "protocol", "seed", "regdb_trial", "metric", "value", "error"),
    allowed={"dataset": DATASETS, "metric": METRICS + ("",)},
    numeric=("seed", "regdb_trial", "value"),
)
PROVENANCE_FILE = "provenance.json"
