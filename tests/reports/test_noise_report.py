"""The noise study's section of the report: R1 and mAP against r, one curve per SCA setting, the matchers' measured
matching errors marked on the r axis (one minus the last cluster matching accuracy each run recorded), and each SCA
term tested against sca_off at each r, on the primary protocol, Holm-adjusted over the study's tests per dataset and
metric."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from reports.noise import matcher_marks, noise_curves, noise_points, noise_tests
from reports.render import render_report
from tests.reports.study_fixture import write_study

LEVELS = (0.0, 0.25, 0.5, 0.75)
SETTINGS = {"sca_off": (False, False), "intra": (True, False), "inter": (False, True), "full": (True, True)}
SEEDS = (0, 1, 2)
# A term's gain over sca_off grows with r (in points per unit of r), on top of a per-seed spread.
GAIN = {"sca_off": 0.0, "intra": 4.0, "inter": 0.0, "full": 8.0}
# The matchers' cluster matching accuracy per epoch (the last one counts).
ACCURACY = {"mmm": [0.5], "centroid_hungarian": [0.1, 0.2, 0.3]}


def _value(metric: str, level: float, setting: str, seed: int) -> float:
    base = {"R1": 50.0, "mAP": 45.0}.get(metric, 60.0)
    wobble = {"sca_off": 0.0, "intra": 0.3, "inter": -0.2, "full": 0.1}[setting] * (seed - 1)
    return base - 20.0 * level + GAIN[setting] * level + (seed - 1) + wobble


def _rows() -> list[dict[str, object]]:
    rows = []
    variants = [(f"r{level:g}_{name}", "oracle_labels", level, name) for level in LEVELS for name in SETTINGS]
    variants += [("mmm", "mmm", None, None), ("centroid_hungarian", "centroid_hungarian", None, None)]
    for variant, method, level, setting in variants:
        params = {} if level is None else {"correspondence_noise": level, "intra": SETTINGS[setting][0]}
        if setting is not None:
            params["inter"] = SETTINGS[setting][1]
        for seed in SEEDS:
            for protocol in ("all", "indoor"):
                for metric in ("R1", "mAP"):
                    value = 30.0 + seed if level is None else _value(metric, level, setting, seed)
                    rows.append(
                        {
                            "study": "noise",
                            "variant": variant,
                            "method": method,
                            "dataset": "sysu",
                            "protocol": protocol,
                            "seed": seed,
                            "regdb_trial": "",
                            "metric": metric,
                            "value": value,
                            "optuna_trial": 0,
                            "params_json": json.dumps(params, sort_keys=True),
                        }
                    )
    return rows


def _epochs() -> pd.DataFrame:
    rows = []
    for variant, accuracies in ACCURACY.items():
        stage = "mmlm" if variant == "mmm" else "centroid_hungarian"
        for seed in SEEDS:
            for epoch, accuracy in enumerate(accuracies):
                rows.append(
                    {
                        "study": "noise",
                        "variant": variant,
                        "dataset": "sysu",
                        "seed": seed,
                        "regdb_trial": "",
                        "stage": stage,
                        "epoch": epoch,
                        "name": "matching_accuracy",
                        "value": accuracy + 0.01 * (seed - 1),
                    }
                )
    # The curves' own record: on their labels the accuracy is 1 - moved / K; it must not become a mark.
    rows.append({**rows[0], "variant": "r0.5_full", "stage": "identity_labels", "value": 0.5})
    return pd.DataFrame(rows)


@pytest.fixture()
def noise_dir(tmp_path: Path) -> Path:
    study_dir = write_study(tmp_path, study="noise", features=False)
    pd.DataFrame(_rows()).to_csv(study_dir / "results.csv", index=False)
    _epochs().to_csv(study_dir / "epochs.csv", index=False)
    for table in ("eval_trials.csv", "stages.csv", "failures.csv"):
        (study_dir / table).unlink()
    provenance = json.loads((study_dir / "provenance.json").read_text())
    (study_dir / "provenance.json").write_text(json.dumps({**provenance, "reference_variant": "r0_full"}))
    return study_dir


def test_the_curves_are_read_from_each_variant_s_parameters() -> None:
    points = noise_points(pd.DataFrame(_rows()))
    assert len(points) == 16
    assert points.set_index("variant").loc["r0.25_inter"].tolist() == [0.25, "inter"]
    curves = noise_curves(pd.DataFrame(_rows()), points)
    assert set(curves["setting"]) == set(SETTINGS) and set(curves["r"]) == set(LEVELS)


def test_each_matcher_is_marked_at_one_minus_its_last_matching_accuracy() -> None:
    results = pd.DataFrame(_rows())
    marks = matcher_marks(_epochs(), noise_points(results)).set_index("variant")
    assert sorted(marks.index) == ["centroid_hungarian", "mmm"]
    assert marks.at["mmm", "accuracy"] == pytest.approx(0.5) and marks.at["mmm", "r"] == pytest.approx(0.5)
    assert marks.at["centroid_hungarian", "r"] == pytest.approx(0.7)  # its last epoch, 0.3
    assert marks.at["centroid_hungarian", "runs"] == 3


def test_each_term_is_tested_against_sca_off_at_each_r_in_one_family_per_dataset_and_metric() -> None:
    results = pd.DataFrame(_rows())
    tests = noise_tests(results, noise_points(results))
    assert set(tests["protocol"]) == {"all"}  # the primary protocol only
    assert len(tests) == len(LEVELS) * 3 * 2  # r x terms x (R1, mAP)
    assert set(tests["reference"]) == {"sca_off"} and set(tests["variant"]) == {"intra", "inter", "full"}
    full = tests[(tests["r"] == 0.5) & (tests["variant"] == "full") & (tests["metric"] == "R1")].iloc[0]
    assert full["mean_delta"] == pytest.approx(4.0) and full["pairs"] == 3
    assert set(tests.loc[tests["p_value"].notna(), "family_size"]) == {int(tests["p_value"].notna().sum() / 2)}


def test_the_report_draws_the_curves_marks_and_tests(noise_dir: Path) -> None:
    html = render_report(noise_dir.parent, noise_dir.name).read_text(encoding="utf-8")
    section = html[html.index('<section id="noise">') :]
    section = section[: section.index("</section>")]
    assert section.count("<img") == 1  # SYSU only
    assert "mmm: cluster matching accuracy 0.500 (mean over 3 runs), marked at r = 0.500" in section
    assert "centroid_hungarian: cluster matching accuracy 0.300 (mean over 3 runs), marked at r = 0.700" in section
    assert section.count('<td class="num">0.50</td><td class="">full</td>') == 2  # R1 and mAP rows at r = 0.5
    assert "uses identity labels: a reference, not a method" in section


def test_other_studies_have_no_noise_section(tmp_path: Path) -> None:
    write_study(tmp_path, features=False)
    html = render_report(tmp_path, "ablation_sca").read_text(encoding="utf-8")
    assert 'id="noise"' not in html
