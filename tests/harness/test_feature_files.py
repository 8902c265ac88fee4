"""Each run's kept features: a file beside its tables, named after its cell and trial and recorded with the trial,
reused as they are when a study resumes; feature_space.csv carries each run's modality gap, and a file that is
missing or not the one its run wrote becomes one row naming it."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from harness.feature_files import cell_feature_file
from harness.queue import WorkerIdentity
from harness.results import FEATURE_COLUMNS, write_results
from mmm.choices import GAP_QUANTITIES
from mmm.evaluation.feature_space import read_sample_file
from tests.harness.fakes import FAST_LEASES, fake_ledger, planned, recording_method, run_fake


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def _run_and_write(tmp_path: Path, log: str = "log") -> tuple[Path, list[dict[str, str]]]:
    ledger = fake_ledger(None, tmp_path, "smoke")
    tables = tmp_path / "tables"
    run_fake(ledger, recording_method(tmp_path / log), tmp_path, tables_dir=tables)
    write_results(tables, ledger, planned(ledger), FAST_LEASES, WorkerIdentity.current())
    return tables, _rows(tables / "feature_space.csv")


def test_every_run_keeps_its_features_and_its_gap_goes_into_feature_space_csv(tmp_path: Path) -> None:
    tables, rows = _run_and_write(tmp_path)
    assert tuple((tables / "feature_space.csv").read_text().splitlines()[0].split(",")) == FEATURE_COLUMNS
    cells = {(r["variant"], r["dataset"]) for r in rows}
    assert cells == {(v, d) for v in ("full", "sca_off") for d in ("sysu", "regdb")}
    for cell in cells:
        cell_rows = [r for r in rows if (r["variant"], r["dataset"]) == cell]
        assert [r["metric"] for r in cell_rows] == list(GAP_QUANTITIES) and all(r["error"] == "" for r in cell_rows)
        (file,) = {r["file"] for r in cell_rows}
        assert file.startswith("features/") and ".t" in file
        sample = read_sample_file(tables / file, cell_rows[0]["sha256"], file)
        assert sorted(set(sample.pids)) == [3, 5, 8]
        gap = {r["metric"]: float(r["value"]) for r in cell_rows}
        assert gap["modality_gap"] == float(np.float64(gap["cross_positive"]) / gap["intra_positive"])


def test_a_resumed_study_reuses_the_feature_files_it_kept(tmp_path: Path) -> None:
    tables, rows = _run_and_write(tmp_path)
    files = sorted((tables / "features").rglob("*.npz"))
    stamps = [path.stat().st_mtime_ns for path in files]
    _, again = _run_and_write(tmp_path, log="log2")
    assert not (tmp_path / "log2").exists()  # nothing ran
    assert again == rows
    assert sorted((tables / "features").rglob("*.npz")) == files
    assert [path.stat().st_mtime_ns for path in files] == stamps


def test_a_missing_or_foreign_feature_file_is_one_row_naming_it(tmp_path: Path) -> None:
    tables, rows = _run_and_write(tmp_path)
    files = {(r["variant"], r["dataset"]): r["file"] for r in rows}
    (tables / files[("full", "sysu")]).unlink()
    # Another run's file in its place: the bytes no longer hash to what the run recorded.
    (tables / files[("sca_off", "sysu")]).write_bytes((tables / files[("full", "regdb")]).read_bytes())
    ledger = fake_ledger(None, tmp_path, "smoke")
    write_results(tables, ledger, planned(ledger), FAST_LEASES, WorkerIdentity.current())
    rows = _rows(tables / "feature_space.csv")
    broken = {(r["variant"], r["dataset"]): r for r in rows if r["error"]}
    assert set(broken) == {("full", "sysu"), ("sca_off", "sysu")}
    assert broken[("full", "sysu")]["error"] == f"{files[('full', 'sysu')]} is missing"
    assert "not the file its run wrote" in broken[("sca_off", "sysu")]["error"]
    assert all(r["metric"] == "" and r["value"] == "" for r in broken.values())
    assert len(rows) == 2 + 2 * len(GAP_QUANTITIES)


def test_a_cell_file_is_named_after_its_cell_and_trial() -> None:
    assert cell_feature_file("full/regdb/seed0/trial1", 7) == "features/full/regdb/seed0/trial1.t7.npz"
