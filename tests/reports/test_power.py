"""How many paired runs resolve a Δ: the paired t-test's power against simulation and scipy, more pairs for a
larger sd or family, and the sds read back from a paired_deltas.csv."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from reports.paired import paired_deltas
from reports.power import main, measured_sds, paired_power, pairs_to_resolve


def test_power_agrees_with_scipy_and_with_simulated_tests() -> None:
    df, critical = 9, float(stats.t.ppf(0.975, 9))
    noncentrality = 1.0 / (1.4 / math.sqrt(10))
    expected = stats.nct.sf(critical, df, noncentrality) + stats.nct.cdf(-critical, df, noncentrality)
    assert paired_power(10, 1.0, 1.4, 0.05) == pytest.approx(expected, abs=1e-4)
    # Three pairs and a large effect, where scipy's nct returns NaN: 20,000 simulated tests.
    rng = np.random.default_rng(0)
    simulated = (stats.ttest_1samp(rng.normal(5.0, 0.9, size=(20_000, 3)), 0.0, axis=1).pvalue < 0.05).mean()
    assert paired_power(3, 5.0, 0.9, 0.05) == pytest.approx(simulated, abs=0.005)


def test_a_larger_sd_or_family_needs_more_pairs() -> None:
    base = pairs_to_resolve(2.0, 1.0)
    assert base is not None and paired_power(base, 2.0, 1.0, 0.05) >= 0.8 > paired_power(base - 1, 2.0, 1.0, 0.05)
    noisier, stricter = pairs_to_resolve(2.0, 2.0), pairs_to_resolve(2.0, 1.0, alpha=0.05 / 8)
    assert noisier is not None and stricter is not None and noisier > base and stricter > base
    assert pairs_to_resolve(0.1, 10.0) is None  # beyond MAX_PAIRS


def test_sds_are_pooled_from_a_studys_paired_differences(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rows = []
    for variant, offsets in {"ref": [0.0, 0.0, 0.0], "a": [1.0, 2.0, 3.0], "b": [2.0, 2.0, 5.0]}.items():
        for seed, offset in enumerate(offsets):
            rows.append(
                {"variant": variant, "dataset": "sysu", "protocol": "all", "metric": "R1"}
                | {"seed": seed, "regdb_trial": math.nan, "value": 40.0 + seed + offset}
            )
    paired = paired_deltas(pd.DataFrame(rows), "ref")
    sds = measured_sds(paired)
    # Variances 1 (a) and 3 (b), two degrees of freedom each: pooled sd √2; a family of two tests.
    assert sds.to_dict("records") == [
        {"dataset": "sysu", "metric": "R1", "sd": pytest.approx(math.sqrt(2)), "family": 2}
    ]
    path = tmp_path / "paired_deltas.csv"
    paired.to_csv(path, index=False)
    assert main([str(path), "--deltas", "5"]) == 0
    expected = pairs_to_resolve(5.0, math.sqrt(2), alpha=0.025)
    assert f"| sysu | R1 | 1.41 | 2 | {expected} |" in capsys.readouterr().out
