"""The paired test over seeds behind each Δ to the reference: resolved when the seeds separate the variants,
unresolved when they overlap, and always unresolved with one seed; in the report and in paired_deltas.csv."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest

from reports.paired import NO_PAIRS, ONE_SEED, PAIRED_COLUMNS, RESOLVED, TEST_NAME, UNRESOLVED, paired_deltas
from reports.render import PAIRED_FILE, render_report
from tests.reports.study_fixture import STUDY, results_frame, write_study


def _table(values: dict[str, list[float]], dataset: str = "sysu", trials: list[int] | None = None) -> pd.DataFrame:
    """results.csv rows of SYSU all-search mAP (or RegDB v2i), value i of each variant at seed i (or, with
    `trials`, at seed 0 and RegDB trial trials[i])."""
    rows = []
    for variant, series in values.items():
        for index, value in enumerate(series):
            rows.append(
                {
                    "variant": variant,
                    "dataset": dataset,
                    "protocol": "all" if dataset == "sysu" else "v2i",
                    "metric": "mAP",
                    "seed": 0 if trials else index,
                    "regdb_trial": trials[index] if trials else math.nan,
                    "value": value,
                }
            )
    return pd.DataFrame(rows)


def _only(paired: pd.DataFrame) -> dict[str, object]:
    assert len(paired) == 1
    return paired.iloc[0].to_dict()


def test_clearly_separated_seeds_resolve_the_difference() -> None:
    row = _only(paired_deltas(_table({"ref": [40.0, 41.0, 42.0], "better": [45.1, 45.9, 47.2]}), "ref"))
    assert row["verdict"] == RESOLVED and row["pairs"] == 3 and row["p_value"] < 0.05
    assert row["mean_delta"] == pytest.approx(5.0667, abs=1e-3)
    assert row["test"] == TEST_NAME


def test_overlapping_seeds_leave_the_difference_unresolved() -> None:
    row = _only(paired_deltas(_table({"ref": [40.0, 45.0, 50.0], "other": [41.0, 44.0, 52.0]}), "ref"))
    assert row["verdict"] == UNRESOLVED and row["p_value"] > 0.05


def test_one_seed_is_unresolved_however_large_the_difference() -> None:
    row = _only(paired_deltas(_table({"ref": [40.0], "better": [90.0]}), "ref"))
    assert row["verdict"] == ONE_SEED and row["pairs"] == 1 and math.isnan(row["p_value"])


def test_identical_differences_resolve_and_no_difference_does_not() -> None:
    shifted = _only(paired_deltas(_table({"ref": [40.0, 41.0, 42.0], "up": [42.0, 43.0, 44.0]}), "ref"))
    assert shifted["verdict"] == RESOLVED and shifted["p_value"] == 0.0 and shifted["t"] == math.inf
    same = _only(paired_deltas(_table({"ref": [40.0, 41.0, 42.0], "same": [40.0, 41.0, 42.0]}), "ref"))
    assert same["verdict"] == UNRESOLVED and same["p_value"] == 1.0


def test_runs_pair_by_seed_with_regdb_trials_averaged_and_only_shared_ones_count() -> None:
    trials = _table({"ref": [40.0, 41.0, 42.0], "better": [45.1, 45.9, 47.2]}, "regdb", trials=[1, 2, 3])
    one_seed = _only(paired_deltas(trials, "ref"))
    assert one_seed["pairs"] == 1 and one_seed["verdict"] == ONE_SEED
    assert one_seed["mean_delta"] == pytest.approx((45.1 + 45.9 + 47.2 - 40.0 - 41.0 - 42.0) / 3)
    seeds = _table({"ref": [40.0, 41.0, 42.0], "better": [45.0, 46.0, 47.5]})
    seeds = seeds[~((seeds["variant"] == "better") & (seeds["seed"] == 2))]
    assert _only(paired_deltas(seeds, "ref"))["pairs"] == 2
    disjoint = _table({"ref": [40.0], "other": [41.0, 42.0]})
    disjoint = disjoint[~((disjoint["variant"] == "other") & (disjoint["seed"] == 0))]
    assert _only(paired_deltas(disjoint, "ref"))["verdict"] == NO_PAIRS


def test_report_marks_each_delta_with_its_verdict_and_names_the_test(synthetic_html: str) -> None:
    results = synthetic_html[synthetic_html.index('id="results"') : synthetic_html.index('id="published"')]
    # The fixture's "off" is 4 points below "full" at every seed: resolved. R10 has no verdict.
    assert '<td class="num neg">−4.00 resolved</td>' in results
    assert '<td class="num neg">−4.00</td>' in results
    assert TEST_NAME in results
    assert "One seed cannot resolve" not in results


def test_paired_deltas_are_written_beside_the_report(synthetic_report: Path) -> None:
    table = pd.read_csv(synthetic_report.parent / PAIRED_FILE)
    assert list(table.columns) == PAIRED_COLUMNS
    assert set(table["metric"]) == {"R1", "mAP"} and set(table["variant"]) == {"off"}
    assert len(table) == 8 and set(table["verdict"]) == {RESOLVED}
    # The failed cell (off, RegDB, seed 2) leaves two seeds (each the mean of its two trials) to pair there.
    assert set(table.loc[table["dataset"] == "regdb", "pairs"]) == {2}


def test_a_single_seed_report_says_no_difference_is_resolved(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path)
    results_frame().query("seed == 0").to_csv(study_dir / "results.csv", index=False)
    html = render_report(tmp_path, STUDY).read_text(encoding="utf-8")
    results = html[html.index('id="results"') : html.index('id="published"')]
    assert "One seed cannot resolve a difference" in results
    assert re.search(r'<td class="num neg unresolved">−4\.00 unresolved \(1 seed\)</td>', results)
    table = pd.read_csv(study_dir / PAIRED_FILE)
    assert set(table.loc[table["dataset"] == "sysu", "verdict"]) == {ONE_SEED}
    # RegDB's two trials of seed 0 are averaged into one pair: one seed resolves nothing there either.
    assert set(table.loc[table["dataset"] == "regdb", "verdict"]) == {ONE_SEED}
