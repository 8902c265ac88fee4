"""The whole command on the smoke study with the real pipeline: tables, provenance and report are written,
variants that differ only in stage C reuse stages A+B from the stage cache, and a re-run has nothing to do."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from harness.study import main
from tests.reports.study_fixture import write_benchmark_json

pytestmark = pytest.mark.usefixtures("restore_logging")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.slow
def test_smoke_study_end_to_end(
    tmp_path: Path, session_cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MMM_CACHE_DIR", str(session_cache))
    out = tmp_path / "runs"
    argv = ["smoke", "--profile", "smoke", "--out", str(out), "--device", "cpu"]
    assert main(argv) == 0

    study_dir = out / "smoke" / "smoke"
    results = _rows(study_dir / "results.csv")
    assert {(r["variant"], r["dataset"], r["protocol"]) for r in results} == {
        (v, d, p)
        for v in ("full", "sca_off")
        for d, ps in (("sysu", ("all", "indoor")), ("regdb", ("v2i", "i2v")))
        for p in ps
    }
    assert {r["metric"] for r in results} == {"R1", "R10", "R20", "mAP", "mINP"}
    assert all(0.0 <= float(r["value"]) <= 100.0 for r in results)
    assert _rows(study_dir / "failures.csv") == []
    assert _rows(study_dir / "epochs.csv")
    stages = _rows(study_dir / "stages.csv")
    assert {r["stage"] for r in stages if r["variant"] == "sca_off" and r["cached"] == "True"} >= {"dcl", "cmc"}
    provenance = json.loads((study_dir / "provenance.json").read_text())
    assert provenance["data_source"] == "synthetic" and provenance["cache"]["hits"] >= 4
    assert set(provenance["data_check"]) == {"sysu", "regdb"}
    assert all(
        record["mismatches"] == [] and record["fingerprint"].startswith("sha256:")
        for record in provenance["data_check"].values()
    )
    assert (study_dir / "report.html").stat().st_size > 0

    assert main(argv) == 0  # resumes: every cell is done, nothing runs
    assert _rows(study_dir / "results.csv") == results
    capsys.readouterr()
    assert main([*argv, "--dry-run"]) == 0
    assert "4 cells — 4 done" in capsys.readouterr().out

    timings = write_benchmark_json(tmp_path / "timings.json")
    assert main([*argv, "--report-only", "--benchmark-json", str(timings)]) == 0
    html = (study_dir / "report.html").read_text()
    assert 'id="benchmarks"' in html and "ratio to floor" in html
