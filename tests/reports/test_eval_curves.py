"""Stage-C test curves (--eval-every): drawn and tabled beside the last epoch, the release's best-epoch choice
labelled as reported and never used, and nothing else in the report moved by them."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from reports.eval_curves import BEST_ROW, LAST_ROW, epoch_choices, stage_c_curves
from reports.render import PAIRED_FILE, render_report
from tests.reports.study_fixture import STUDY, write_study

# R1 per stage-C epoch (1-based index = position + 1): it peaks at epoch 2, the last epoch (4) is the result.
R1_CURVE = [30.0, 45.0, 41.0, 40.0]


def _curve_rows(seeds: tuple[int, ...] = (0, 1)) -> pd.DataFrame:
    rows = []
    for variant, shift in (("full", 0.0), ("off", -2.0)):
        for seed in seeds:
            for epoch, r1 in enumerate(R1_CURVE):
                for name, value in (
                    ("test.all.R1", r1 + shift + seed),
                    ("test.all.mAP", r1 / 2),
                    ("test.indoor.R1", 1.0),
                ):
                    rows.append(
                        {"study": STUDY, "variant": variant, "dataset": "sysu", "seed": seed, "regdb_trial": ""}
                        | {"stage": "sca", "epoch": epoch, "name": name, "value": value}
                    )
    return pd.DataFrame(rows)


def test_the_best_test_epoch_is_found_per_run_and_the_last_epoch_kept_as_the_result() -> None:
    curves = stage_c_curves(_curve_rows().assign(regdb_trial=float("nan")))
    assert set(curves["metric"]) == {"R1", "mAP"}  # the primary protocol only (all-search on SYSU-MM01)
    table = epoch_choices(curves, "sysu")
    full = table[table["variant"] == "full"]
    assert full.loc[full["row"] == LAST_ROW, "epoch"].tolist() == [4, 4]
    assert full.loc[full["row"] == BEST_ROW, "epoch"].tolist() == [2, 2]
    assert full.loc[full["row"] == BEST_ROW, "R1"].tolist() == [45.0, 46.0]
    assert full.loc[full["row"] == LAST_ROW, "mAP"].tolist() == [20.0, 20.0]


def test_the_report_draws_the_curves_and_labels_the_best_epoch_as_never_used(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path, features=False)
    plain = render_report(tmp_path, STUDY).read_text(encoding="utf-8")
    paired_before = (study_dir / PAIRED_FILE).read_text()
    assert 'id="curves"' not in plain
    epochs = pd.read_csv(study_dir / "epochs.csv")
    pd.concat([epochs, _curve_rows()]).to_csv(study_dir / "epochs.csv", index=False)
    html = render_report(tmp_path, STUDY).read_text(encoding="utf-8")
    section = html[html.index('id="curves"') : html.index("</section>", html.index('id="curves"'))]
    # Jinja escapes the apostrophe as &#39;.
    assert BEST_ROW.replace("'", "&#39;") in section and LAST_ROW in section
    assert "data:image/png;base64," in section
    assert "every result in this report is the last epoch" in section
    # The results, the Δs and their tests are the same with or without the curves.
    assert (study_dir / PAIRED_FILE).read_text() == paired_before
    assert _results_section(html) == _results_section(plain)


def _results_section(html: str) -> str:
    """The results section without its figures' bytes (a figure drawn twice is not byte-identical)."""
    start = html.index('id="results"')
    return re.sub(r"data:image/png;base64,[^\"]+", "PNG", html[start : html.index("</section>", start)])
