"""floor.csv: the untrained floor of a study's (dataset, seed, RegDB trial) units, one row per unit x protocol x
metric (percentages, as in results.csv), beside the study's own tables in `<out>/<study>/<profile>/`.

A floor that could not be computed is one row naming its unit and the error, with no metric. Floors are not
cells: they never appear in results.csv, and the report draws them as a reference, not as a variant. Each row
carries the profile and data identity it was computed for, so --report-only, which computes nothing, can drop a
table left by a run on other data instead of showing it beside these results.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any, Iterator

from harness.atomic import atomic_write_text
from harness.floor import FloorOutcome, FloorRun
from harness.results import tidy_csv
from harness.run_key import RunKey

log = logging.getLogger(__name__)

FLOOR_TABLE = "floor.csv"
FLOOR_COLUMNS = (
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
    "floor_key",
    "error",
)


def write_floor_table(results_dir: Path, study: str, key: RunKey, run: FloorRun) -> None:
    """Replace floor.csv with this run's floors."""
    rows = [row for outcome in run.outcomes for row in _rows(study, key, outcome)]
    atomic_write_text(results_dir / FLOOR_TABLE, tidy_csv(FLOOR_COLUMNS, rows))


def keep_current_floors(results_dir: Path, key: RunKey) -> None:
    """Drop the rows of floor.csv that another profile or other data produced (nothing is computed)."""
    path = results_dir / FLOOR_TABLE
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
            "%s: %d of %d rows describe other data or another profile; dropped, so the report shows the "
            "floor as missing where no run on this data recorded it",
            path,
            len(rows) - len(current),
            len(rows),
        )
        atomic_write_text(path, tidy_csv(FLOOR_COLUMNS, current))


def _rows(study: str, key: RunKey, outcome: FloorOutcome) -> Iterator[dict[str, Any]]:
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
    if outcome.floor is None:
        yield {**base, "error": outcome.error}
        return
    floor = outcome.floor
    base.update(weights_sha256=floor.weights, floor_key=floor.key)
    for protocol, metrics in sorted(floor.result.metrics.items()):
        for metric, value in metrics.items():
            yield {**base, "protocol": protocol, "metric": metric, "value": value}
