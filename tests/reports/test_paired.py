"""The paired test behind each Δ to the reference: pairs are runs (seed and RegDB trial), every tested Δ gets a 95%
interval and a Holm-adjusted p within its dataset and metric, the verdict follows the adjusted p, and pairs
without spread are never resolved; in the report and in paired_deltas.csv."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reports.paired import (
    NO_PAIRS,
    NO_VARIANCE,
    ONE_PAIR,
    PAIRED_COLUMNS,
    RESOLVED,
    TEST_NAME,
    UNRESOLVED,
    holm,
    paired_deltas,
)
from reports.render import PAIRED_FILE, render_report
from tests.reports.study_fixture import STUDY, results_frame, write_study


def _table(
    values: dict[str, list[float]], dataset: str = "sysu", trials: list[int] | None = None, protocol: str = ""
) -> pd.DataFrame:
    """results.csv rows of SYSU all-search mAP (or RegDB v2i), value i of each variant at seed i (or, with
    `trials`, at seed 0 and RegDB trial trials[i])."""
    rows = []
    for variant, series in values.items():
        for index, value in enumerate(series):
            rows.append(
                {
                    "variant": variant,
                    "dataset": dataset,
                    "protocol": protocol or ("all" if dataset == "sysu" else "v2i"),
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


def test_clearly_separated_runs_resolve_the_difference_with_a_t_interval() -> None:
    row = _only(paired_deltas(_table({"ref": [40.0, 41.0, 42.0], "better": [41.0, 43.0, 45.0]}), "ref"))
    # Differences 1, 2, 3: mean 2, sd 1, interval 2 ± t(0.975, 2) / √3 = 2 ± 2.484.
    assert row["pairs"] == 3 and row["mean_delta"] == pytest.approx(2.0) and row["sd_delta"] == pytest.approx(1.0)
    assert row["ci_low"] == pytest.approx(2.0 - 4.302653 / math.sqrt(3), abs=1e-5)
    assert row["ci_high"] == pytest.approx(2.0 + 4.302653 / math.sqrt(3), abs=1e-5)
    assert row["t"] == pytest.approx(2.0 * math.sqrt(3)) and row["p_value"] == pytest.approx(0.0742, abs=1e-3)
    assert row["verdict"] == UNRESOLVED  # the interval spans 0: p 0.074
    wide = _only(paired_deltas(_table({"ref": [40.0, 41.0, 42.0], "better": [45.1, 45.9, 47.2]}), "ref"))
    assert wide["verdict"] == RESOLVED and wide["p_holm"] == wide["p_value"] < 0.05 and wide["family_size"] == 1
    assert 0 < wide["ci_low"] < wide["mean_delta"] < wide["ci_high"]
    assert wide["test"] == TEST_NAME


def test_one_pair_is_unresolved_however_large_the_difference() -> None:
    row = _only(paired_deltas(_table({"ref": [40.0], "better": [90.0]}), "ref"))
    assert row["verdict"] == ONE_PAIR and row["pairs"] == 1 and math.isnan(row["p_value"])
    assert math.isnan(row["ci_low"]) and math.isnan(row["p_holm"]) and row["family_size"] == 0


@pytest.mark.parametrize("shift", [2.0, 0.0])
def test_pairs_without_spread_have_no_variance_to_test_and_are_never_resolved(shift: float) -> None:
    ref = [40.0, 41.0, 42.0]
    row = _only(paired_deltas(_table({"ref": ref, "other": [v + shift for v in ref]}), "ref"))
    assert row["verdict"] == NO_VARIANCE and row["mean_delta"] == pytest.approx(shift)
    assert math.isnan(row["t"]) and math.isnan(row["p_value"]) and math.isnan(row["p_holm"])
    assert math.isnan(row["ci_low"]) and row["family_size"] == 0


def test_each_regdb_trial_is_its_own_pair() -> None:
    trials = _table({"ref": [40.0, 41.0, 42.0], "better": [45.1, 45.9, 47.2]}, "regdb", trials=[1, 2, 3])
    row = _only(paired_deltas(trials, "ref"))
    assert (row["pairs"], row["seeds"], row["regdb_trials"]) == (3, 1, 3)
    assert row["verdict"] == RESOLVED
    assert row["mean_delta"] == pytest.approx((45.1 + 45.9 + 47.2 - 40.0 - 41.0 - 42.0) / 3)


def test_only_runs_both_variants_finished_are_paired() -> None:
    seeds = _table({"ref": [40.0, 41.0, 42.0], "better": [45.0, 46.0, 47.5]})
    seeds = seeds[~((seeds["variant"] == "better") & (seeds["seed"] == 2))]
    assert _only(paired_deltas(seeds, "ref"))["pairs"] == 2
    disjoint = _table({"ref": [40.0], "other": [41.0, 42.0]})
    disjoint = disjoint[~((disjoint["variant"] == "other") & (disjoint["seed"] == 0))]
    assert _only(paired_deltas(disjoint, "ref"))["verdict"] == NO_PAIRS


def test_holm_adjusts_step_down_and_keeps_the_order() -> None:
    # Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → kept non-decreasing: 0.06.
    assert holm(np.array([0.01, 0.04, 0.03, 0.005])) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm(np.array([0.5, 0.9])) == pytest.approx([1.0, 1.0])


def test_the_verdict_follows_the_adjusted_p_within_one_dataset_and_metric() -> None:
    ref = [40.0, 41.0, 42.0, 43.0]
    close = [41.5, 41.6, 43.9, 43.8]  # differences 1.5, 0.6, 1.9, 0.8: raw p 0.029
    noise = [[40.5, 40.2, 42.9, 42.6], [39.1, 41.8, 42.6, 42.5], [40.7, 40.1, 42.3, 43.9]]
    sysu = _table({"ref": ref, "close": close, **{f"noise{i}": v for i, v in enumerate(noise)}})
    alone = _only(paired_deltas(_table({"ref": ref, "close": close}), "ref"))
    assert alone["verdict"] == RESOLVED and alone["family_size"] == 1
    # RegDB's family is separate: its tests do not enlarge SYSU's.
    regdb = _table({"ref": ref, "close": close}, "regdb", trials=[1, 2, 3, 4])
    paired = paired_deltas(pd.concat([sysu, regdb]), "ref")
    family = paired[paired["dataset"] == "sysu"].set_index("variant")
    assert set(family["family_size"]) == {4}
    assert family.at["close", "p_holm"] == pytest.approx(min(1.0, 4 * family.at["close", "p_value"]))
    assert family.at["close", "p_value"] == pytest.approx(alone["p_value"])
    # Resolved alone, not among four tests: 4 × 0.029 > 0.05.
    assert family.at["close", "verdict"] == UNRESOLVED
    assert family["verdict"].eq(np.where(family["p_holm"] < 0.05, RESOLVED, UNRESOLVED)).all()
    regdb_row = paired[paired["dataset"] == "regdb"].iloc[0]
    assert regdb_row["family_size"] == 1 and regdb_row["p_holm"] == regdb_row["p_value"]


def test_a_family_spans_protocols_but_not_metrics() -> None:
    both = pd.concat(
        [
            _table({"ref": [40.0, 41.0, 42.0], "v": [45.1, 45.9, 47.2]}, protocol="all"),
            _table({"ref": [40.0, 41.0, 42.0], "v": [44.0, 46.5, 47.0]}, protocol="indoor"),
        ]
    )
    r1 = _table({"ref": [40.0, 41.0, 42.0], "v": [41.0, 43.0, 45.0]}).assign(metric="R1")
    paired = paired_deltas(pd.concat([both, r1]), "ref")
    assert dict(zip(paired["metric"] + ":" + paired["protocol"], paired["family_size"])) == {
        "mAP:all": 2,
        "mAP:indoor": 2,
        "R1:all": 1,
    }


def test_report_marks_each_delta_with_its_verdict_and_names_the_test(synthetic_html: str) -> None:
    results = synthetic_html[
        synthetic_html.index('id="results"') : synthetic_html.index("</section>", synthetic_html.index('id="results"'))
    ]
    # The fixture's "off" is 4 points below "full" at every SYSU run: no variance to test. On RegDB its trials
    # spread differently from "full"'s, so the four pairs resolve the difference. R10 has no verdict.
    sysu, regdb = results[: results.index("<h3>RegDB")], results[results.index("<h3>RegDB") :]
    assert f'<td class="num neg unresolved">−4.00 {NO_VARIANCE} · 33% of headroom</td>' in sysu
    # (The Δ of means there is −4.50: "off" lacks seed 2, whose "full" runs lie above the mean.)
    assert '<td class="num neg">−4.50 resolved · 32% of headroom</td>' in regdb
    assert '<td class="num neg">−4.00</td>' in results
    assert TEST_NAME in results
    assert "every pair of runs differs by exactly the same amount" in results
    assert "One pair of runs cannot resolve" not in results
    # RegDB's paired table: 4 pairs, the interval and the adjusted p of a family of 2 (two directions).
    assert "[−4.46, −3.54]" in regdb
    assert "(of 2)" in regdb


def test_paired_deltas_are_written_beside_the_report(synthetic_report: Path) -> None:
    table = pd.read_csv(synthetic_report.parent / PAIRED_FILE)
    assert list(table.columns) == PAIRED_COLUMNS
    assert set(table["metric"]) == {"R1", "mAP"} and set(table["variant"]) == {"off"}
    assert len(table) == 8
    assert set(table.loc[table["dataset"] == "sysu", "verdict"]) == {NO_VARIANCE}
    assert set(table.loc[table["dataset"] == "regdb", "verdict"]) == {RESOLVED}
    # The failed cell (off, RegDB, seed 2) leaves two seeds with two trials each: four pairs.
    regdb = table[table["dataset"] == "regdb"]
    assert set(regdb["pairs"]) == {4} and set(regdb["seeds"]) == {2} and set(regdb["regdb_trials"]) == {2}


def test_a_single_run_report_says_no_difference_is_resolved(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path, features=False)
    results = results_frame()
    results = results[(results["seed"] == 0) & results["regdb_trial"].isin(["", 1])]
    results.to_csv(study_dir / "results.csv", index=False)
    html = render_report(tmp_path, STUDY).read_text(encoding="utf-8")
    section = html[html.index('id="results"') : html.index("</section>", html.index('id="results"'))]
    assert "One pair of runs cannot resolve a difference" in section
    assert re.search(r'<td class="num neg unresolved">−4\.00 unresolved \(1 pair\) · \d+% of headroom</td>', section)
    table = pd.read_csv(study_dir / PAIRED_FILE)
    assert set(table["verdict"]) == {ONE_PAIR}
