"""The whole command on the smoke study with the real pipeline: tables, provenance and report are written,
variants that differ only in stage C reuse stages A+B from the stage cache, and a re-run has nothing to do."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from harness.references import CEILING, FLOOR
from harness.study import main
from mmm.code_identity import code_identity, project_root
from mmm.evaluation.feature_space import read_sample_file
from tests.harness.conftest import SMOKE_STUDY
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
    argv = ["smoke", "--profile", "smoke", "--out", str(out), "--device", "cpu", "--eval-every", "1"]
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
    epochs = _rows(study_dir / "epochs.csv")
    # --eval-every 1: stage C's test metrics every epoch, in the tables and the report, beside the result.
    curve = {(r["variant"], r["dataset"], r["epoch"]) for r in epochs if r["name"] == "test.all.R1"}
    assert curve == {(v, "sysu", e) for v in ("full", "sca_off") for e in ("0", "1")}
    last = {r["variant"]: float(r["value"]) for r in epochs if r["name"] == "test.all.R1" and r["epoch"] == "1"}
    assert last == {r["variant"]: float(r["value"]) for r in results if (r["protocol"], r["metric"]) == ("all", "R1")}
    stages = _rows(study_dir / "stages.csv")
    assert {r["stage"] for r in stages if r["variant"] == "sca_off" and r["cached"] == "True"} >= {"dcl", "cmc"}
    provenance = json.loads((study_dir / "provenance.json").read_text())
    assert provenance["data_source"] == "synthetic" and provenance["cache"]["hits"] >= 4
    assert provenance["precision"] == "fp32" and provenance["deterministic"] is False
    assert set(provenance["data_check"]) == {"sysu", "regdb"}
    assert all(
        record["mismatches"] == [] and record["fingerprint"].startswith("sha256:")
        for record in provenance["data_check"].values()
    )
    assert 'id="curves"' in (study_dir / "report.html").read_text(encoding="utf-8")
    # Every cell, the floor and the ceiling kept the features of the same test images (per dataset), each file
    # beside the tables, its gap in feature_space.csv.
    features = _rows(study_dir / "feature_space.csv")
    assert all(r["error"] == "" for r in features)
    kept = {(r["variant"], r["dataset"]): (r["file"], r["sha256"]) for r in features}
    runs = ("full", "sca_off", FLOOR.label, CEILING.label)
    assert set(kept) == {(v, d) for v in runs for d in ("sysu", "regdb")}
    assert {r["variant"]: r["reference"] for r in features} == {
        "full": "",
        "sca_off": "",
        FLOOR.label: FLOOR.name,
        CEILING.label: CEILING.name,
    }
    for dataset in ("sysu", "regdb"):
        samples = [
            read_sample_file(study_dir / file, sha, file) for (_, d), (file, sha) in kept.items() if d == dataset
        ]
        assert len(samples) == len(runs)
        assert all(
            np.array_equal(s.pids, samples[0].pids) and np.array_equal(s.camids, samples[0].camids) for s in samples
        )
    stamps = {
        file: (study_dir / file).stat().st_mtime_ns for (variant, _), (file, _) in kept.items() if variant in runs[:2]
    }

    assert main(argv) == 0  # resumes: every cell is done, nothing runs
    assert _rows(study_dir / "results.csv") == results
    # The cells' files are reused as they are; the references' records serve theirs again, byte for byte.
    assert _rows(study_dir / "feature_space.csv") == features
    assert {file: (study_dir / file).stat().st_mtime_ns for file in stamps} == stamps
    capsys.readouterr()
    assert main([*argv, "--dry-run"]) == 0
    assert "4 cells — 4 done" in capsys.readouterr().out

    # A feature file gone: --report-only says so in one line of feature_space.csv and one of the report.
    gone, _ = kept[(FLOOR.label, "sysu")]
    (study_dir / gone).unlink()
    timings = write_benchmark_json(tmp_path / "timings.json")
    assert main([*argv, "--report-only", "--benchmark-json", str(timings)]) == 0
    html = (study_dir / "report.html").read_text()
    assert 'id="benchmarks"' in html and "ratio to floor" in html
    broken = [r for r in _rows(study_dir / "feature_space.csv") if r["error"]]
    assert [(r["variant"], r["dataset"], r["error"]) for r in broken] == [(FLOOR.label, "sysu", f"{gone} is missing")]
    assert html.count(f"{FLOOR.label} seed 0: {gone} is missing") == 1
    assert 'alt="SYSU-MM01 test features, t-SNE"' in html  # the other runs' pictures stand


def _copy_of_the_code(destination: Path) -> Path:
    """The project's packages copied to `destination` (a checkout elsewhere, or the code after an edit)."""
    for package in ("mmm", "baselines", "harness", "studies", "reports"):
        shutil.copytree(project_root() / package, destination / package, ignore=shutil.ignore_patterns("__pycache__"))
    return destination


def _study(code: Path, *argv: str, cache: Path) -> subprocess.CompletedProcess[str]:
    """The command run by the code under `code` (its packages come first on the path when run from there)."""
    env = {**os.environ, "MMM_CACHE_DIR": str(cache), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "harness.study", *argv], cwd=code, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.slow
def test_results_of_other_code_are_stale_and_a_run_replaces_them(
    tmp_path: Path, session_cache: Path, smoke_study_run: Path
) -> None:
    out = tmp_path / "runs"
    shutil.copytree(smoke_study_run, out)  # the study as this code finished it
    argv = [*SMOKE_STUDY, "--out", str(out)]

    old_entries = set((out / "cache").glob("*/*.pt"))
    # The same project with one default changed: every stored cell is another code's result.
    edited = _copy_of_the_code(tmp_path / "edited")
    config = edited / "mmm" / "pipeline" / "config.py"
    config.write_text(config.read_text().replace("temperature: float = 0.05", "temperature: float = 0.07", 1))
    dry = _study(edited, *argv, "--dry-run", cache=session_cache)
    assert dry.returncode == 0, dry.stderr
    assert "4 cells — 4 stale" in dry.stdout
    assert "stale: 4 cell(s) finished by other code (source " in dry.stdout
    assert "a run re-runs them" in dry.stdout
    old_source = code_identity().source

    # Kept on purpose: nothing runs, the tables say which code made each row and the report marks them.
    kept = _study(edited, *argv, "--keep-stale", cache=session_cache)
    assert kept.returncode == 0, kept.stderr
    assert "0 run now" in kept.stderr and "4 done earlier" in kept.stderr
    study_dir = out / "smoke" / "smoke"
    assert {(r["code"], r["stale"]) for r in _rows(study_dir / "results.csv")} == {(old_source, "True")}
    html = (study_dir / "report.html").read_text()
    assert "full †" in html and "4 run(s) kept from other code" not in html  # 2 runs per dataset
    assert "2 run(s) kept from other code (--keep-stale; method source " + old_source in html
    provenance = json.loads((study_dir / "provenance.json").read_text())
    assert provenance["floor"]["computed"] == 2, "the floor records of the old code were served"
    code = provenance["code"]
    assert code["current"]["source"] != old_source
    assert [(r["source"], r["runs"], r["stale"]) for r in code["results"]] == [(old_source, 4, True)]

    run = _study(edited, *argv, cache=session_cache)
    assert run.returncode == 0, run.stderr
    assert "4 run now" in run.stderr and "0 done earlier" in run.stderr
    # The stage cache keys on the source hash: every stage of the edited code is an entry of its own.
    edited_entries = set((out / "cache").glob("*/*.pt")) - old_entries
    assert {p.parent.name for p in edited_entries} == {p.parent.name for p in old_entries}
    assert len(edited_entries) == len(old_entries)
    assert "4 cells — 4 done" in _study(edited, *argv, "--dry-run", cache=session_cache).stdout
    assert {r["stale"] for r in _rows(study_dir / "results.csv")} == {"False"}
    assert "†" not in (study_dir / "report.html").read_text()
