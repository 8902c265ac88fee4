"""floor.csv and ceiling.csv: the references of a study's (dataset, seed, RegDB trial) units (harness.references),
one row per unit x protocol x metric (percentages, as in results.csv), beside the study's own tables in
`<out>/<study>/<profile>/`.

A reference that could not be computed is one row naming its unit and the error, with no metric. References are
not cells: they never appear in results.csv, and the report draws them as references, not as variants. Each row
carries the profile and data identity it was computed for, so --report-only, which computes nothing, can drop a
table left by a run on other data instead of showing it beside these results. A reference's feature sample is kept
beside the tables like a cell's (harness.feature_files); its rows name the file, and feature_space.csv carries its
modality gap next to the cells'.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any, Iterator

from harness.atomic import atomic_write_text
from harness.feature_files import ERROR, FEATURES_FOLDER, FILE, SHA256, feature_rows, keep_features
from harness.references import REFERENCE_KINDS, ReferenceKind, ReferenceOutcome, ReferenceRun
from harness.results import tidy_csv
from harness.run_key import RunKey

log = logging.getLogger(__name__)

REFERENCE_COLUMNS = (
    "study",
    "profile",
    "data",
    "dataset",
    "protocol",
    "seed",
    "regdb_trial",
    "metric",
    "value",
    "backbone",
    "pretrained",
    "weights_sha256",
    "key",
    "error",
    "features",
    "features_sha256",
    "features_error",
)


def reference_table(kind: ReferenceKind) -> str:
    """The file name of a kind's table."""
    return f"{kind.name}.csv"


def write_reference_table(results_dir: Path, study: str, key: RunKey, run: ReferenceRun) -> None:
    """Replace the kind's table with this run's references, each one's feature sample written beside the table as a
    cell's is (features/<kind>/<dataset>/seed<s>[/trial<t>].<record key>.npz)."""
    rows = [
        row
        for outcome in run.outcomes
        for row in _rows(study, key, outcome, _kept_features(results_dir, run.store.kind, outcome))
    ]
    atomic_write_text(results_dir / reference_table(run.store.kind), tidy_csv(REFERENCE_COLUMNS, rows))


def _kept_features(results_dir: Path, kind: ReferenceKind, outcome: ReferenceOutcome) -> dict[str, Any]:
    """The table's feature columns of one outcome: its file and sha256, or why it has none."""
    reference = outcome.reference
    if reference is None:
        return {}
    if reference.result.features is None:
        return {"features_error": "no feature sample in the reference's record"}
    unit = outcome.unit
    trial = f"/trial{unit.regdb_trial}" if unit.regdb_trial is not None else ""
    name = f"{FEATURES_FOLDER}/{kind.name}/{unit.dataset}/seed{unit.seed}{trial}.{reference.key[:12]}.npz"
    kept = keep_features(results_dir, name, reference.result.features)
    return {"features": kept.get(FILE), "features_sha256": kept.get(SHA256), "features_error": kept.get(ERROR)}


def reference_feature_rows(results_dir: Path, study: str) -> list[dict[str, Any]]:
    """feature_space.csv's rows of the references whose tables are in `results_dir`: each unit's modality gap from
    its feature file (the variant named by the reference's label, the `reference` column by its kind), or one row
    saying why there is none."""
    rows: list[dict[str, Any]] = []
    for kind in REFERENCE_KINDS:
        path = results_dir / reference_table(kind)
        if not path.is_file():
            continue
        with path.open(newline="", encoding="utf-8") as handle:
            units = {_unit(row): row for row in csv.DictReader(handle) if not row.get("error")}
        for (dataset, seed, regdb_trial), row in units.items():
            keys = {
                "study": study,
                "variant": kind.label,
                "method": kind.method,
                "reference": kind.name,
                "dataset": dataset,
                "seed": seed,
                "regdb_trial": regdb_trial,
            }
            record = {FILE: row.get("features"), SHA256: row.get("features_sha256"), ERROR: row.get("features_error")}
            rows += feature_rows(keys, results_dir, record)
    return rows


def _unit(row: dict[str, str]) -> tuple[str, str, str]:
    return row.get("dataset", ""), row.get("seed", ""), row.get("regdb_trial", "")


def keep_current_references(results_dir: Path, key: RunKey, kind: ReferenceKind) -> None:
    """Drop the rows of the kind's table that another profile or other data produced (nothing is computed)."""
    path = results_dir / reference_table(kind)
    if not path.is_file():
        return
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    current = [
        row
        for row in rows
        if row.get("profile") == key.profile and row.get("data") == key.data.get(row.get("dataset", ""))
    ]
    if len(current) < len(rows):
        log.warning(
            "%s: %d of %d rows describe other data or another profile; dropped, so the report shows the %s as "
            "missing where no run on this data recorded it",
            path,
            len(rows) - len(current),
            len(rows),
            kind.label,
        )
        atomic_write_text(path, tidy_csv(REFERENCE_COLUMNS, current))


def _rows(study: str, key: RunKey, outcome: ReferenceOutcome, features: dict[str, Any]) -> Iterator[dict[str, Any]]:
    unit, config = outcome.unit, outcome.config
    base = {
        "study": study,
        "profile": key.profile,
        "data": key.data.get(unit.dataset),
        "dataset": unit.dataset,
        "seed": unit.seed,
        "regdb_trial": unit.regdb_trial,
        "backbone": config.backbone if config else None,
        "pretrained": config.pretrained if config else None,
    }
    if outcome.reference is None:
        yield {**base, "error": outcome.error}
        return
    reference = outcome.reference
    base.update(weights_sha256=reference.weights, key=reference.key, **features)
    for protocol, metrics in sorted(reference.result.metrics.items()):
        for metric, value in metrics.items():
            yield {**base, "protocol": protocol, "metric": metric, "value": value}
