"""The untrained floor in the report: a labelled reference row under the variants and a dashed line in the metric
figures, summarised over the seeds the results show, and a plain statement where it is missing."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reports.figures import metric_figure, variant_palette
from reports.floor import FLOOR_LABEL, floor_summary
from reports.loading import load_study
from reports.render import render_report
from reports.summary import per_seed
from tests.reports.study_fixture import STUDY, floor_frame, write_study, write_tuning_study

FLOOR_ROW = f'<td class="floor">{FLOOR_LABEL}</td>'


def _results_section(html: str) -> str:
    return html[html.index('id="results"') : html.index('id="published"')]


def test_results_tables_end_with_the_floor_row_never_marked_best(synthetic_html: str) -> None:
    results = _results_section(synthetic_html)
    assert results.count(FLOOR_ROW) == 2  # SYSU-MM01 and RegDB
    # Floor R1 over seeds 0, 1, 2: 40 - 10 + 0.5 * (seed - 1): 30.00 ± 0.50; mAP 25.00 ± 0.50.
    assert '<td class="num floor">30.00 ± 0.50</td>' in results
    assert '<td class="num floor">25.00 ± 0.50</td>' in results
    sysu = results[: results.index("<h3>RegDB")]
    assert sysu.index('<td class="">off</td>') < sysu.index(FLOOR_ROW) < sysu.index("Δ to full")


def test_the_metric_figures_draw_the_floor_and_say_so(synthetic_html: str, tmp_path: Path) -> None:
    assert _results_section(synthetic_html).count("Dashed line: the untrained floor") == 2
    data = load_study(write_study(tmp_path))
    seeds = per_seed(data.results)
    palette = variant_palette(["full", "off"])
    floor = floor_summary(data.floor, data.results)
    assert metric_figure(seeds, "sysu", palette, floor) != metric_figure(seeds, "sysu", palette)


def test_the_floor_uses_only_the_seeds_the_results_show(tmp_path: Path) -> None:
    data = load_study(write_study(tmp_path))
    floor = floor_summary(data.floor, data.results[data.results["seed"] == 0])
    row = floor[(floor["dataset"] == "sysu") & (floor["protocol"] == "all") & (floor["metric"] == "R1")]
    assert row["mean"].tolist() == [29.5] and row["n"].tolist() == [1]


def test_a_study_without_a_floor_table_says_the_floor_is_missing(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path)
    (study_dir / "floor.csv").unlink()
    results = _results_section(render_report(tmp_path, STUDY).read_text(encoding="utf-8"))
    assert FLOOR_ROW not in results and "Dashed line" not in results
    assert results.count("The untrained floor is missing for seed 0, seed 1, seed 2 (floor.csv holds no floor") == 1
    assert "seed 0 trial 1, seed 0 trial 2" in results  # RegDB names its trials


def test_a_floor_that_failed_is_named_with_its_error(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path)
    floor = floor_frame()
    failed = (floor["dataset"] == "sysu") & (floor["seed"] == 2)
    error_row = (
        floor[failed]
        .head(1)
        .assign(protocol="", metric="", value="", error="PretrainedError: weights.pt: no such file")
    )
    pd.concat([floor[~failed], error_row]).to_csv(study_dir / "floor.csv", index=False)
    results = _results_section(render_report(tmp_path, STUDY).read_text(encoding="utf-8"))
    assert (
        "The untrained floor is missing for seed 2 (PretrainedError: weights.pt: no such file); the floor row "
        "and line use the others"
    ) in results
    assert '<td class="num floor">29.75 ± 0.35 (n=2)</td>' in results  # SYSU R1 over seeds 0 and 1
    assert results.count(FLOOR_ROW) == 2


def test_a_tuning_study_lists_the_floor_below_its_trials(tmp_path: Path) -> None:
    write_tuning_study(tmp_path)
    results = _results_section(render_report(tmp_path, "tune").read_text(encoding="utf-8"))
    # Seed 0 only: mAP 35 - 10 - 0.5 = 24.50 is the objective (all-search mAP) of the floor row.
    assert results.index("lambda_intra=0.1, memories=1") < results.index(FLOOR_ROW)
    assert '<td class="num floor">24.50</td>' in results
