"""The noise study run for real on the smoke profile (as CI runs it): stage C on the true identities with r of
the correspondences deranged under each SCA setting, MMM and centroid Hungarian beside them, and a report with the
curves, the marks and the tests; its r = 0, full-SCA cells are the ceiling, computed once."""

from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import Iterator

import pytest

from harness.study import main
from studies.noise import NOISE_LEVELS, SCA_SETTINGS

PROFILE = "smoke"
DATASETS = ("sysu", "regdb")
CURVE_CELLS = len(NOISE_LEVELS) * len(SCA_SETTINGS)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def noise_run(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> Iterator[Path]:
    out = tmp_path_factory.mktemp("noise") / "runs"
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MMM_CACHE_DIR", str(session_cache))
        assert main(["noise", "--profile", PROFILE, "--out", str(out), "--device", "cpu"]) == 0
        yield out
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.mark.slow
def test_the_noise_study_runs_every_level_and_setting_on_smoke(noise_run: Path) -> None:
    results = _rows(noise_run / "noise" / PROFILE / "results.csv")
    variants = {r["variant"] for r in results}
    assert len(variants) == CURVE_CELLS + 2 and {"mmm", "centroid_hungarian", "r0.75_sca_off"} <= variants
    assert {r["dataset"] for r in results} == set(DATASETS)
    # Each curve cell's labels moved exactly round(r·K) of the K = 8 identities: its recorded matching accuracy.
    epochs = _rows(noise_run / "noise" / PROFILE / "epochs.csv")
    accuracy = {
        (r["variant"], r["dataset"]): float(r["value"])
        for r in epochs
        if r["stage"] == "identity_labels" and r["name"] == "matching_accuracy"
    }
    for level in NOISE_LEVELS:
        for dataset in DATASETS:
            assert accuracy[(f"r{level:g}_full", dataset)] == pytest.approx(1.0 - level)


@pytest.mark.slow
def test_the_noise_study_s_clean_full_sca_cells_are_the_ceiling(noise_run: Path) -> None:
    folder = noise_run / "noise" / PROFILE
    ceiling = {(r["dataset"], r["protocol"], r["metric"]): float(r["value"]) for r in _rows(folder / "ceiling.csv")}
    clean = {
        (r["dataset"], r["protocol"], r["metric"]): float(r["value"])
        for r in _rows(folder / "results.csv")
        if r["variant"] == "r0_full"
    }
    assert ceiling == clean
    # Every curve cell was computed once through the ceiling's store; the ceiling pass found its two records.
    counts = json.loads((folder / "provenance.json").read_text())["ceiling"]
    assert counts["computed"] == CURVE_CELLS * len(DATASETS) and counts["reused"] == len(DATASETS)


@pytest.mark.slow
def test_the_noise_report_draws_curves_marks_and_tests(noise_run: Path) -> None:
    html = (noise_run / "noise" / PROFILE / "report.html").read_text()
    section = html[html.index('<section id="noise">') :]
    section = section[: section.index("</section>")]
    assert section.count("<img") == len(DATASETS)
    assert "mmm: cluster matching accuracy" in section
    assert "centroid_hungarian: cluster matching accuracy" in section
    tests = section.count('<td class="">intra</td>')
    assert tests == len(NOISE_LEVELS) * 2 * len(DATASETS)  # r x (R1, mAP) x dataset
