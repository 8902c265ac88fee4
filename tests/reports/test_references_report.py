"""The references in the report: the untrained floor and the identity-label ceiling as labelled rows under the
variants and as a dashed and a dotted line in the metric figures, summarised over the seeds the results show, each
variant's share of the headroom between them beside its Δ, variants that read identity labels labelled as such, and
a plain statement where a reference is missing."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from reports.figures import metric_figure, variant_palette
from reports.loading import load_study
from reports.references import CEILING_LABEL, CEILING_NOTE, FLOOR_LABEL
from reports.render import render_report
from reports.summary import per_seed
from tests.reports.study_fixture import STUDY, floor_frame, results_frame, write_study, write_tuning_study

FLOOR_ROW = f'<td class="floor">{FLOOR_LABEL}</td>'
CEILING_ROW = f'<td class="ceiling">{CEILING_LABEL} ({CEILING_NOTE})</td>'


def _results_section(html: str) -> str:
    start = html.index('id="results"')
    return html[start : html.index("</section>", start)]


def test_results_tables_end_with_the_floor_row_never_marked_best(synthetic_html: str) -> None:
    results = _results_section(synthetic_html)
    assert results.count(FLOOR_ROW) == 2  # SYSU-MM01 and RegDB
    # Floor R1 over seeds 0, 1, 2: 40 - 10 + 0.5 * (seed - 1): 30.00 ± 0.50; mAP 25.00 ± 0.50.
    assert '<td class="num floor">30.00 ± 0.50</td>' in results
    assert '<td class="num floor">25.00 ± 0.50</td>' in results
    sysu = results[: results.index("<h3>RegDB")]
    assert sysu.index('<td class="">off</td>') < sysu.index(FLOOR_ROW) < sysu.index("Δ to full")


def test_results_tables_end_with_the_ceiling_row_labelled_as_using_identity_labels(synthetic_html: str) -> None:
    results = _results_section(synthetic_html)
    assert results.count(CEILING_ROW) == 2  # SYSU-MM01 and RegDB
    assert "uses identity labels: a reference, not a method" in CEILING_ROW
    # Ceiling R1 over seeds 0, 1, 2: 40 + 20 + 0.25 * (seed - 1): 60.00 ± 0.25; mAP 55.00 ± 0.25.
    assert '<td class="num ceiling">60.00 ± 0.25</td>' in results
    assert '<td class="num ceiling">55.00 ± 0.25</td>' in results
    sysu = results[: results.index("<h3>RegDB")]
    assert sysu.index(FLOOR_ROW) < sysu.index(CEILING_ROW) < sysu.index("Δ to full")


def test_each_variant_shows_its_share_of_the_headroom_beside_its_delta(synthetic_html: str) -> None:
    sysu = _results_section(synthetic_html)
    sysu = sysu[sysu.index("Δ to full") : sysu.index("<h3>RegDB")]
    # SYSU R1: floor 30, ceiling 60; full 44 covers 14/30 = 47%, off 40 covers 10/30 = 33%.
    assert '<td class="num ref">44.00 · 47% of headroom</td>' in sysu
    assert re.search(r'<td class="num neg[a-z ]*">−4\.00 [^<]* · 33% of headroom</td>', sysu)
    assert "(mean − floor) / (ceiling − floor)" in synthetic_html


def test_the_metric_figures_draw_the_floor_dashed_and_the_ceiling_dotted_and_say_so(
    synthetic_html: str, tmp_path: Path
) -> None:
    results = _results_section(synthetic_html)
    assert results.count("Dashed line: the untrained floor") == 2
    assert results.count(f"Dotted line: the {CEILING_LABEL}") == 2
    data = load_study(write_study(tmp_path))
    seeds = per_seed(data.results)
    palette = variant_palette(["full", "off"])
    floor, ceiling = data.floor.summary(data.results), data.ceiling.summary(data.results)
    without = metric_figure(seeds, "sysu", palette)
    assert (
        len(
            {
                without,
                metric_figure(seeds, "sysu", palette, [floor]),
                metric_figure(seeds, "sysu", palette, [floor, ceiling]),
            }
        )
        == 3
    )


def test_a_variant_that_reads_identity_labels_is_labelled_so(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path, features=False)
    results = results_frame()
    results.loc[results["variant"] == "off", "method"] = "oracle_matching"
    results.to_csv(study_dir / "results.csv", index=False)
    html = render_report(tmp_path, STUDY).read_text(encoding="utf-8")
    assert (
        _results_section(html).count('<td class="">off (uses identity labels)</td>') == 4
    )  # summary and Δ, 2 datasets


def test_a_study_without_a_ceiling_table_says_the_ceiling_is_missing(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path, features=False)
    (study_dir / "ceiling.csv").unlink()
    results = _results_section(render_report(tmp_path, STUDY).read_text(encoding="utf-8"))
    assert CEILING_ROW not in results and "Dotted line" not in results and "of headroom" not in results
    assert (
        results.count(f"The {CEILING_LABEL} is missing for seed 0, seed 1, seed 2 (ceiling.csv holds no ceiling for it")
        == 1
    )
    assert FLOOR_ROW in results  # the floor stands on its own


def test_the_title_names_the_study_and_its_profile_not_the_folder(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path, features=False)
    quick = study_dir.rename(tmp_path / "quick")  # the harness names the folder for the profile
    html = render_report(tmp_path, quick.name).read_text(encoding="utf-8")
    assert "<title>ablation_sca (quick profile) — MMM bench report</title>" in html
    assert "<title>quick" not in html


def test_the_floor_uses_only_the_seeds_the_results_show(tmp_path: Path) -> None:
    data = load_study(write_study(tmp_path))
    floor = data.floor.summary(data.results[data.results["seed"] == 0])
    row = floor[(floor["dataset"] == "sysu") & (floor["protocol"] == "all") & (floor["metric"] == "R1")]
    assert row["mean"].tolist() == [29.5] and row["n"].tolist() == [1]


def test_a_study_without_a_floor_table_says_the_floor_is_missing(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path, features=False)
    (study_dir / "floor.csv").unlink()
    results = _results_section(render_report(tmp_path, STUDY).read_text(encoding="utf-8"))
    assert FLOOR_ROW not in results and "Dashed line" not in results
    assert results.count("The untrained floor is missing for seed 0, seed 1, seed 2 (floor.csv holds no floor") == 1
    assert "seed 0 trial 1, seed 0 trial 2" in results  # RegDB names its trials


def test_a_floor_that_failed_is_named_with_its_error(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path, features=False)
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


def test_a_tuning_study_lists_the_floor_and_the_ceiling_below_its_trials(tmp_path: Path) -> None:
    write_tuning_study(tmp_path)
    results = _results_section(render_report(tmp_path, "tune").read_text(encoding="utf-8"))
    # Seed 0 only: mAP 35 - 10 - 0.5 = 24.50 is the objective (all-search mAP) of the floor row, 35 + 20 - 0.25 of
    # the ceiling's.
    assert results.index("lambda_intra=0.1, memories=1") < results.index(FLOOR_ROW) < results.index(CEILING_ROW)
    assert '<td class="num floor">24.50</td>' in results
    assert '<td class="num ceiling">54.75</td>' in results


def test_on_real_data_the_ceiling_stands_beside_agw_s_supervised_numbers(real_html: str) -> None:
    published = real_html[real_html.index('id="published"') : real_html.index('id="quality"')]
    sysu = published[published.index("SYSU-MM01 all-search") :]
    assert f'<td class="ours">{CEILING_LABEL}</td>' in sysu and '<td class="">AGW</td>' in sysu
    assert "47.50" in sysu and "Ye et al. TPAMI 2021" in sysu
    assert "sanity reference for the ceiling of the paper profile" in published
