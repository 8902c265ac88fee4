"""floor.csv and ceiling.csv: the references of a study's (dataset, seed, RegDB trial) units (harness.references),
one row per unit x protocol x metric (percentages, as in results.csv), beside the study's own tables in
`<out>/<study>/<profile>/`.

A reference that could not be computed is one row naming its unit and the error, with no metric. References are
not cells: they never appear in results.csv, and the report draws them as references, not as variants. Each row
carries the profile and data identity it was computed for, so --report-only, which computes nothing, can drop a
table left by a run on other data instead of showing it beside these results.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any, Iterator

from harness.atomic import atomic_write_text
from harness.references import ReferenceKind, ReferenceOutcome, ReferenceRun
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
)


def reference_table(kind: ReferenceKind) -> str:
    """The file name of a kind's table."""
    return f"{kind.name}.csv"


def write_reference_table(results_dir: Path, study: str, key: RunKey, run: ReferenceRun) -> None:
    """Replace the kind's table with this run's references."""
    rows = [row for outcome in run.outcomes for row in _rows(study, key, outcome)]
    atomic_write_text(results_dir / reference_table(run.store.kind), tidy_csv(REFERENCE_COLUMNS, rows))


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


def _rows(study: str, key: RunKey, outcome: ReferenceOutcome) -> Iterator[dict[str, Any]]:
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
    base.update(weights_sha256=reference.weights, key=reference.key)
    for protocol, metrics in sorted(reference.result.metrics.items()):
        for metric, value in metrics.items():
            yield {**base, "protocol": protocol, "metric": metric, "value": value}
