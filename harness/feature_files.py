"""The feature files of a study's runs: each run's kept feature sample (mmm.evaluation.feature_space) as a small npz
in the folder of the tables it belongs to, `<tables>/features/...`, recorded with the run by its path (relative to
that folder) and sha256.

A file belongs to the run that wrote it: a cell's file is named after its cell and its Optuna trial (a re-run writes
a new one), and a file is served only while its bytes still hash to what the run recorded. Reading one that is
missing, altered or unreadable raises FeatureFileError saying which; reports turn that into one line.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

from harness.atomic import atomic_write_bytes
from mmm.choices import GAP_QUANTITIES
from mmm.evaluation.feature_space import (
    FeatureFileError,
    FeatureSample,
    distance_groups,
    gap_summary,
    read_sample_file,
    sample_bytes,
)

log = logging.getLogger(__name__)

FEATURES_FOLDER = "features"
# Keys of a run's feature record (the trial's "features" attribute).
FILE = "file"
SHA256 = "sha256"
ERROR = "error"


def cell_feature_file(cell_id: str, trial_number: int) -> str:
    """Where a cell's run keeps its features, relative to its tables folder: named after the cell and the trial."""
    return f"{FEATURES_FOLDER}/{cell_id}.t{trial_number}.npz"


def keep_features(tables_dir: Path, name: str, sample: FeatureSample) -> dict[str, Any]:
    """Write `sample` to `tables_dir/name` and return the record that goes with the run: its file and sha256, or
    (when the file cannot be written) the error, logged; the run itself is kept either way."""
    data = sample_bytes(sample)
    try:
        atomic_write_bytes(tables_dir / name, data)
    except OSError as error:
        log.warning("the feature file %s could not be written (%s); the run is kept without it", name, error)
        return {ERROR: f"not written ({error.strerror or error})"}
    return {
        FILE: name,
        SHA256: hashlib.sha256(data).hexdigest(),
        "rows": len(sample.pids),
        "identities": sample.identities,
    }


def read_features(tables_dir: Path, record: dict[str, Any]) -> FeatureSample:
    """The sample a run recorded in `record` (its FILE and SHA256 under `tables_dir`); FeatureFileError says why it
    cannot be served."""
    if record.get(ERROR):
        raise FeatureFileError(str(record[ERROR]))
    if not record.get(FILE):
        raise FeatureFileError("no feature file recorded (a run made before features were kept)")
    return read_sample_file(tables_dir / str(record[FILE]), str(record.get(SHA256, "")), str(record[FILE]))


def feature_rows(keys: dict[str, Any], tables_dir: Path, record: dict[str, Any]) -> list[dict[str, Any]]:
    """feature_space.csv's rows of one run (`keys` name it): the modality-gap quantities of its sample, each with
    the file they come from; one row with the error instead when the file cannot be served."""
    try:
        sample = read_features(tables_dir, record)
    except FeatureFileError as error:
        return [{**keys, ERROR: str(error)}]
    summary = gap_summary(distance_groups(sample))
    located = {**keys, FILE: record[FILE], SHA256: record[SHA256]}
    return [{**located, "metric": quantity, "value": summary[quantity]} for quantity in GAP_QUANTITIES]
