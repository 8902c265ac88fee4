"""Read and validate one study's tidy tables and provenance; every error names the file and what is wrong."""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from reports.references import CEILING_LABEL, FLOOR_LABEL, ReferenceTable
from reports.schema import (
    CEILING,
    DATA_SOURCES,
    EPOCHS,
    EVAL_TRIALS,
    FAILURES,
    FEATURE_SPACE,
    FINAL_FOLDER,
    FLOOR,
    IMPORTANCES,
    PROVENANCE_FILE,
    REPORTED_PROTOCOLS,
    RESULTS,
    SELECTION_FILE,
    STAGE_TIMES,
    TableSpec,
)

logger = logging.getLogger(__name__)

_TRUE_WORDS = frozenset({"true", "1", "yes", "y", "t"})
_FALSE_WORDS = frozenset({"false", "0", "no", "n", "f", ""})


@dataclass(frozen=True)
class StudyData:
    """Everything a report is made from. Optional tables are empty frames (with their columns) when the
    harness wrote none; provenance is an empty dict when provenance.json is absent."""

    study: str
    results: pd.DataFrame
    epochs: pd.DataFrame
    stages: pd.DataFrame
    failures: pd.DataFrame
    importances: pd.DataFrame
    provenance: dict[str, Any]
    eval_trials: pd.DataFrame  # the values behind each result's mean (empty for studies run before it existed)
    floor: ReferenceTable  # the untrained floor per dataset, seed and RegDB trial (empty when none was recorded)
    ceiling: ReferenceTable  # the identity-label ceiling, likewise
    feature_space: pd.DataFrame  # each run's modality gap and feature file (empty when no run kept features)
    folder: Path  # where the tables are: feature files are named relative to it
    # A tuning study once its search is done: the final phase's tables (the choice and the defaults scored on
    # test; None before) and the choice itself (best_params.json; empty before)
    final: "StudyData | None" = None
    selection: dict[str, Any] = field(default_factory=dict)


def load_study(study_dir: Path) -> StudyData:
    """Load `<out_dir>/<study>/<profile>/`; results.csv must exist and hold rows, the rest may be absent or empty. A
    tuning study's final phase (its folder `final/`, with results) and its choice (best_params.json) come along. The
    study is named by results.csv (the folder is named for the run's profile)."""
    data = _load_tables(study_dir, rows_required=True)
    final_dir = study_dir / FINAL_FOLDER
    final = _load_tables(final_dir, rows_required=False) if (final_dir / RESULTS.filename).is_file() else None
    selection = _read_json(study_dir / SELECTION_FILE) if (study_dir / SELECTION_FILE).is_file() else {}
    return dataclasses.replace(data, final=final, selection=selection)


def _load_tables(study_dir: Path, rows_required: bool) -> StudyData:
    results = read_table(study_dir, RESULTS, required=True)
    if results.empty and rows_required:
        raise ValueError(f"{RESULTS.filename}: no rows")
    _check_protocols(results, RESULTS.filename)
    results["stale"] = _as_bool(results["stale"], RESULTS.filename, "stale")
    stages = read_table(study_dir, STAGE_TIMES)
    stages["cached"] = _as_bool(stages["cached"], STAGE_TIMES.filename, "cached")
    references = {}
    for spec, label in ((FLOOR, FLOOR_LABEL), (CEILING, CEILING_LABEL)):
        rows = read_table(study_dir, spec)
        _check_protocols(rows[rows["error"] == ""], spec.filename)
        references[spec.filename] = ReferenceTable(label, spec.filename, rows)
    names = results["study"].unique()
    return StudyData(
        study=str(names[0]) if len(names) == 1 else study_dir.name,
        results=results,
        epochs=read_table(study_dir, EPOCHS),
        stages=stages,
        failures=read_table(study_dir, FAILURES),
        importances=read_table(study_dir, IMPORTANCES),
        provenance=read_provenance(study_dir / PROVENANCE_FILE),
        eval_trials=read_table(study_dir, EVAL_TRIALS),
        floor=references[FLOOR.filename],
        ceiling=references[CEILING.filename],
        feature_space=read_table(study_dir, FEATURE_SPACE),
        folder=study_dir,
    )


def read_table(study_dir: Path, spec: TableSpec, required: bool = False) -> pd.DataFrame:
    """One CSV checked against its spec; an absent or zero-byte optional file gives an empty frame."""
    path = study_dir / spec.filename
    if not path.is_file() or path.stat().st_size == 0:
        if required:
            raise FileNotFoundError(f"{spec.filename}: not found in {study_dir}")
        logger.info("%s: absent or empty, its report section will say so", path)
        return pd.DataFrame({column: pd.Series(dtype=object) for column in spec.columns})
    # Categorical columns stay strings ("1" as a seed, "nan" as a variant name must not be reinterpreted).
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    validate_table(frame, spec)
    # Tables written before an optional column existed read as if it were empty.
    for column in spec.optional:
        if column not in frame.columns:
            frame[column] = ""
    for column in spec.numeric:
        frame[column] = _as_number(frame[column], spec.filename, column)
    return frame


def validate_table(frame: pd.DataFrame, spec: TableSpec) -> None:
    """Raise ValueError naming the file and the first missing column or unexpected categorical value."""
    for column in spec.columns:
        if column not in frame.columns:
            raise ValueError(f"{spec.filename}: missing column {column!r}")
    for column, allowed in spec.allowed.items():
        if column not in frame.columns:
            continue
        unexpected = sorted(set(frame[column]) - set(allowed))
        if unexpected:
            raise ValueError(
                f"{spec.filename}: column {column!r} has unexpected values {unexpected}; "
                f"expected one of {list(allowed)}"
            )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path.name}: not valid JSON ({error})") from error
    if not isinstance(document, dict):
        raise ValueError(f"{path.name}: expected a JSON object, got {type(document).__name__}")
    return document


def read_provenance(path: Path) -> dict[str, Any]:
    """provenance.json as a dict; an unknown data_source is an error because it decides how the report
    compares with the paper."""
    if not path.is_file():
        logger.info("%s: absent, the provenance section will say so", path)
        return {}
    try:
        provenance = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{PROVENANCE_FILE}: not valid JSON ({error})") from error
    if not isinstance(provenance, dict):
        raise ValueError(f"{PROVENANCE_FILE}: expected a JSON object, got {type(provenance).__name__}")
    source = provenance.get("data_source")
    if source is not None and source not in DATA_SOURCES:
        raise ValueError(
            f"{PROVENANCE_FILE}: data_source has unexpected value {source!r}; expected one of {list(DATA_SOURCES)}"
        )
    return provenance


def _check_protocols(frame: pd.DataFrame, filename: str) -> None:
    """Protocols are allowed per dataset (SYSU: all/indoor, RegDB: v2i/i2v, and their validation counterparts)."""
    for dataset, rows in frame.groupby("dataset"):
        unexpected = sorted(set(rows["protocol"]) - set(REPORTED_PROTOCOLS[dataset]))
        if unexpected:
            raise ValueError(
                f"{filename}: column 'protocol' has unexpected values {unexpected} for dataset {dataset!r}; "
                f"expected one of {list(REPORTED_PROTOCOLS[dataset])}"
            )


def _as_number(column: pd.Series, filename: str, name: str) -> pd.Series:
    """Empty cells become NaN (regdb_trial is empty for SYSU); anything else must parse."""
    stripped = column.str.strip()
    numbers = pd.to_numeric(stripped.where(stripped != ""), errors="coerce")
    bad = stripped[(stripped != "") & numbers.isna()]
    if not bad.empty:
        raise ValueError(f"{filename}: column {name!r} has non-numeric values {sorted(set(bad))[:5]}")
    return numbers


def _as_bool(column: pd.Series, filename: str, name: str) -> pd.Series:
    words = column.astype(str).str.strip().str.lower()
    unexpected = sorted(set(words) - _TRUE_WORDS - _FALSE_WORDS)
    if unexpected:
        raise ValueError(f"{filename}: column {name!r} has unexpected values {unexpected}; expected true/false")
    return words.isin(_TRUE_WORDS)
