"""The input contract of a report: the tidy tables the harness writes under `<out_dir>/<study>/`, their
required columns and the values their categorical columns may take."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Iterable, Mapping

# The names shared with the method and the harness (defined once, in mmm.choices): datasets, metrics, protocols
# and stage names in pipeline order (other stage names are allowed and follow in order of appearance).
from mmm.choices import DATASETS as DATASETS
from mmm.choices import GAP_QUANTITIES as GAP_QUANTITIES
from mmm.choices import METRICS as METRICS
from mmm.choices import OBJECTIVE_PROTOCOLS as OBJECTIVE_PROTOCOLS
from mmm.choices import PRIMARY_METRIC
from mmm.choices import PRIMARY_PROTOCOLS as PRIMARY_PROTOCOLS
from mmm.choices import PROTOCOLS as PROTOCOLS
from mmm.choices import STAGES as STAGES
from mmm.choices import VALIDATION_PROTOCOLS as VALIDATION_PROTOCOLS

# A tuning study's objective: the validation counterpart of the primary protocol's metric per dataset (as
# harness/runner.py tells Optuna); a search is never scored on test.
OBJECTIVE_METRIC = PRIMARY_METRIC
# Every protocol a table may hold per dataset, in display order: the test protocols, then the validation ones.
REPORTED_PROTOCOLS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {dataset: PROTOCOLS[dataset] + VALIDATION_PROTOCOLS[dataset] for dataset in DATASETS}
)
DATA_SOURCES = ("synthetic", "real")

DATASET_LABELS: Mapping[str, str] = MappingProxyType({"sysu": "SYSU-MM01", "regdb": "RegDB"})
PROTOCOL_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "all": "all-search",
        "indoor": "indoor-search",
        "v2i": "visible→infrared",
        "i2v": "infrared→visible",
        "val-all": "validation all-search",
        "val-v2i": "validation visible→infrared",
        "val-i2v": "validation infrared→visible",
    }
)


def stage_order(stages: Iterable[str]) -> list[str]:
    """The distinct stage names given, known ones in pipeline order, then the rest as they first appear."""
    present = list(dict.fromkeys(stages))
    return [stage for stage in STAGES if stage in present] + [stage for stage in present if stage not in STAGES]


@dataclass(frozen=True)
class TableSpec:
    """One tidy CSV, the contract between the harness that writes it and the report that reads it: its file name,
    the columns the report needs, the further columns the harness writes, the allowed values of categorical
    columns and the columns that must parse as numbers."""

    filename: str
    columns: tuple[str, ...]
    allowed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    numeric: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()  # written by the harness, read when present

    @property
    def written(self) -> tuple[str, ...]:
        """The header the harness writes."""
        return self.columns + self.optional


RESULTS = TableSpec(
    "results.csv",
    ("study", "variant", "method", "dataset", "protocol", "seed", "regdb_trial", "metric", "value"),
    allowed={"dataset": DATASETS, "metric": METRICS},
    numeric=("seed", "regdb_trial", "value"),
    # code: the method's source hash of the run (empty when unknown); stale: a result of other code kept on purpose
    optional=("optuna_trial", "params_json", "code", "stale"),
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
    optional=("method",),
)
STAGE_TIMES = TableSpec(
    "stages.csv",
    ("study", "variant", "dataset", "seed", "regdb_trial", "stage", "seconds", "cached"),
    allowed={"dataset": DATASETS},
    numeric=("seed", "regdb_trial", "seconds"),
)
FAILURES = TableSpec("failures.csv", ("cell_id", "variant", "dataset", "seed", "state", "error"), numeric=("seed",))
IMPORTANCES = TableSpec(
    "importances.csv", ("param", "importance"), numeric=("importance",), optional=("study", "dataset", "note")
)
# The references per (dataset, seed, RegDB trial), the untrained floor and the identity-label ceiling: metric rows
# as in results.csv; a reference that could not be computed is one row with its error and no protocol, metric or value.
_REFERENCE_COLUMNS = ("dataset", "protocol", "seed", "regdb_trial", "metric", "value", "error")
FLOOR = TableSpec(
    "floor.csv",
    _REFERENCE_COLUMNS,
    allowed={"dataset": DATASETS, "metric": METRICS + ("",)},
    numeric=("seed", "regdb_trial", "value"),
)
CEILING = TableSpec(
    "ceiling.csv",
    _REFERENCE_COLUMNS,
    allowed={"dataset": DATASETS, "metric": METRICS + ("",)},
    numeric=("seed", "regdb_trial", "value"),
)
# The feature space of each run and reference (harness.feature_files): the modality-gap quantities of its kept sample
# (cosine distances, not percentages), with the feature file they come from; one whose file cannot be served is one
# row with the error and no metric.
FEATURE_SPACE = TableSpec(
    "feature_space.csv",
    ("study", "variant", "method", "dataset", "seed", "regdb_trial", "metric", "value", "file", "sha256", "error"),
    allowed={"dataset": DATASETS, "metric": GAP_QUANTITIES + ("",)},
    numeric=("seed", "regdb_trial", "value"),
    optional=("reference",),  # a reference's rows: its kind (floor, ceiling), the variant column its label
)
PROVENANCE_FILE = "provenance.json"
# A tuning study: the parameters its search chose on validation (also a --params file), and the folder holding the
# final phase's tables (the choice and the defaults re-trained and scored on test), in the tables' layout above.
SELECTION_FILE = "best_params.json"
FINAL_FOLDER = "final"
SELECTED_VARIANT = "selected"  # the final phase's variants: the search's choice, and the profile's own values
DEFAULT_VARIANT = "default"
