"""Bad input is refused with an error naming the file and what is wrong with it."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from reports.loading import load_study
from reports.schema import stage_order
from tests.reports.study_fixture import results_frame, write_study


def rewrite_results(study_dir: Path, frame: pd.DataFrame) -> None:
    frame.to_csv(study_dir / "results.csv", index=False)


def test_complete_study_loads_with_numeric_values_and_boolean_cache_flags(tmp_path: Path) -> None:
    data = load_study(write_study(tmp_path))
    assert data.results["value"].dtype.kind == "f"
    assert data.results.loc[data.results["dataset"] == "sysu", "regdb_trial"].isna().all()
    assert data.stages["cached"].dtype == bool
    assert data.provenance["data_source"] == "synthetic"


def test_missing_results_column_names_file_and_column(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path)
    rewrite_results(study_dir, results_frame().drop(columns="metric"))
    with pytest.raises(ValueError, match=r"results\.csv: missing column 'metric'"):
        load_study(study_dir)


def test_missing_column_of_an_optional_table_names_that_file(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path)
    pd.DataFrame({"variant": ["full"], "stage": ["dcl"]}).to_csv(study_dir / "stages.csv", index=False)
    with pytest.raises(ValueError, match=r"stages\.csv: missing column 'study'"):
        load_study(study_dir)


def test_unexpected_metric_names_the_file_and_expected_values(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path)
    rewrite_results(study_dir, results_frame().replace({"metric": {"R10": "R5"}}))
    expected = r"results\.csv: column 'metric' has unexpected values \['R5'\]; expected one of"
    with pytest.raises(ValueError, match=expected):
        load_study(study_dir)


def test_protocol_of_the_other_dataset_is_refused(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path)
    frame = results_frame()
    frame.loc[frame["dataset"] == "sysu", "protocol"] = "v2i"
    rewrite_results(study_dir, frame)
    with pytest.raises(ValueError, match=r"results\.csv: column 'protocol' .*\['v2i'\] for dataset 'sysu'"):
        load_study(study_dir)


def test_non_numeric_value_is_refused(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path)
    rewrite_results(study_dir, results_frame().astype({"value": object}).replace({"value": {44.0: "n/a"}}))
    with pytest.raises(ValueError, match=r"results\.csv: column 'value' has non-numeric values \['n/a'\]"):
        load_study(study_dir)


def test_absent_results_file_is_an_error_naming_it(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path)
    (study_dir / "results.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"results\.csv"):
        load_study(study_dir)


def test_results_with_header_only_are_an_error(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path)
    rewrite_results(study_dir, results_frame().iloc[0:0])
    with pytest.raises(ValueError, match=r"results\.csv: no rows"):
        load_study(study_dir)


def test_unknown_data_source_is_refused(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path)
    (study_dir / "provenance.json").write_text(json.dumps({"data_source": "imagined"}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"provenance\.json: data_source has unexpected value 'imagined'"):
        load_study(study_dir)


def test_absent_optional_tables_load_as_empty_frames(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path)
    for name in ("epochs.csv", "stages.csv", "failures.csv", "importances.csv", "provenance.json"):
        (study_dir / name).unlink()
    data = load_study(study_dir)
    assert data.epochs.empty and data.stages.empty and data.failures.empty and data.importances.empty
    assert data.provenance == {}


def test_stage_names_beyond_the_known_ones_are_accepted_and_ordered_after_them(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path)
    stages = pd.read_csv(study_dir / "stages.csv")
    stages.loc[stages["stage"] == "cmc", "stage"] = "pgm_link"
    stages.to_csv(study_dir / "stages.csv", index=False)
    data = load_study(study_dir)
    assert stage_order(data.stages["stage"]) == ["images", "dcl", "mmlm", "sca", "eval", "pgm_link"]
