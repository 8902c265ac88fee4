"""Mean ± sd over seeds, the best mark, differences to the reference and missing cells, on hand examples."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from reports.display import fmt_delta, fmt_mean_sd
from reports.summary import deltas, missing_cells, per_seed, seed_summary


def results(rows: list[tuple[str, str, str, int, float | None, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"variant": v, "dataset": d, "protocol": p, "seed": s, "regdb_trial": t, "metric": "R1", "value": x}
            for v, d, p, s, t, x in rows
        ]
    )


HAND = results(
    [
        ("full", "sysu", "all", 0, None, 60.0),
        ("full", "sysu", "all", 1, None, 62.0),
        ("full", "sysu", "all", 2, None, 64.0),
        ("off", "sysu", "all", 0, None, 55.0),
        ("off", "sysu", "all", 1, None, 56.0),
        ("off", "sysu", "all", 2, None, 60.0),
    ]
)


def row(frame: pd.DataFrame, variant: str) -> pd.Series:
    return frame[frame["variant"] == variant].iloc[0]


def test_mean_and_sample_sd_over_seeds() -> None:
    summary = seed_summary(per_seed(HAND))
    assert row(summary, "full")["mean"] == pytest.approx(62.0)
    assert row(summary, "full")["sd"] == pytest.approx(2.0)
    assert row(summary, "off")["mean"] == pytest.approx(57.0)
    assert row(summary, "off")["sd"] == pytest.approx(math.sqrt(7.0))
    assert fmt_mean_sd(62.0, 2.0) == "62.00 ± 2.00"


def test_best_mean_of_each_column_is_marked() -> None:
    summary = seed_summary(per_seed(HAND))
    assert bool(row(summary, "full")["best"])
    assert not bool(row(summary, "off")["best"])


def test_delta_is_difference_of_means_to_the_reference() -> None:
    difference = deltas(seed_summary(per_seed(HAND)), "full")
    assert row(difference, "off")["delta"] == pytest.approx(-5.0)
    assert row(difference, "full")["delta"] == pytest.approx(0.0)
    assert fmt_delta(-5.0) == "−5.00"
    assert fmt_delta(1.5) == "+1.50"


def test_unknown_reference_variant_is_an_error() -> None:
    with pytest.raises(ValueError, match="'nope'"):
        deltas(seed_summary(per_seed(HAND)), "nope")


def test_regdb_trials_are_averaged_within_a_seed_before_the_sd_over_seeds() -> None:
    trials = results(
        [
            ("full", "regdb", "v2i", 0, 1.0, 80.0),
            ("full", "regdb", "v2i", 0, 2.0, 84.0),
            ("full", "regdb", "v2i", 1, 1.0, 86.0),
            ("full", "regdb", "v2i", 1, 2.0, 86.0),
        ]
    )
    seeds = per_seed(trials)
    assert list(seeds["value"]) == [82.0, 86.0]
    summary = seed_summary(seeds)
    assert summary.iloc[0]["mean"] == pytest.approx(84.0)
    assert summary.iloc[0]["sd"] == pytest.approx(math.sqrt(8.0))
    assert summary.iloc[0]["n"] == 2


def test_single_seed_has_no_sd_and_shows_a_dash() -> None:
    summary = seed_summary(per_seed(HAND[HAND["seed"] == 0]))
    assert math.isnan(row(summary, "full")["sd"])
    assert fmt_mean_sd(row(summary, "full")["mean"], row(summary, "full")["sd"]) == "60.00 ± —"


def test_cells_without_result_or_failure_are_missing() -> None:
    failures = pd.DataFrame([{"variant": "off", "dataset": "sysu", "seed": 1.0}])
    present = HAND[~((HAND["variant"] == "off") & HAND["seed"].isin([1, 2]))]
    gaps = missing_cells(present, failures)
    assert gaps.to_dict("records") == [{"variant": "off", "dataset": "sysu", "seed": 2}]
