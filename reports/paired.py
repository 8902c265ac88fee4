"""Whether the runs resolve each difference to the reference variant: per variant, dataset, protocol and primary
metric, the variant's and the reference's values paired by run — one pair per (seed, RegDB trial), since every
RegDB trial trains its own network on its own split (harness.cells makes one cell per trial) — then a two-sided
paired t-test, a 95% interval on the mean difference, and a p-value adjusted for the number of tests. Only runs
of the same code pair (results.csv's `code`, the method's source hash): a stale result of other code that was kept
on purpose never pairs with a run of this code.

The family a p-value is adjusted within is one study's differences on one dataset and metric (every variant ×
protocol there), Holm's step-down method: the verdict is "resolved" when the adjusted p is below α = 0.05. The
interval is the plain per-comparison t interval (mean ± t(0.975, n−1) · sd / √n); it says how large the
difference may be, the adjusted p whether the family as a whole lets it count.

With fewer than two pairs there is no test ("unresolved (1 pair)"). When every pair differs by the same amount the
pairs carry no variance to test against: that is reported as "no variance to test" (t, p and the interval are
left empty and the row stays out of the family), never as resolved — RegDB's R1 moves in steps of 1/#queries, so
equal differences happen on small data.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from reports.schema import DATASETS, PROTOCOLS

PAIRED_METRICS = ("R1", "mAP")
ALPHA = 0.05
CONFIDENCE = 0.95
TEST_NAME = "two-sided paired t-test on the per-run differences, Holm-adjusted per dataset and metric, α = 0.05"
RESOLVED = "resolved"
UNRESOLVED = "unresolved"
ONE_PAIR = "unresolved (1 pair)"
NO_PAIRS = "unresolved (no shared run)"
NO_VARIANCE = "no variance to test"
# paired_deltas.csv, the contract with readers of the tests: the first 13 columns are the original ones, the
# rest were added with the interval and the multiplicity correction (README, "Paired differences").
PAIRED_COLUMNS = [
    "dataset",
    "protocol",
    "metric",
    "variant",
    "reference",
    "pairs",  # (seed, RegDB trial) runs both variants finished
    "seeds",  # distinct seeds among the pairs
    "mean_delta",  # mean of variant − reference over the pairs, percentage points
    "sd_delta",  # sample sd of those differences
    "t",
    "p_value",  # unadjusted two-sided p
    "test",
    "verdict",  # from p_holm
    "regdb_trials",  # distinct RegDB trials among the pairs (0 on SYSU-MM01)
    "ci_low",  # 95% t interval on mean_delta
    "ci_high",
    "family_size",  # tests in this row's family (its study, dataset and metric)
    "p_holm",  # Holm-adjusted p within the family
]
# A run is a seed and RegDB trial run by one code (the method's source hash): results of other code kept with
# --keep-stale never pair with runs of this code, and runs that recorded no code pair only with each other.
_RUN = ["seed", "regdb_trial", "code"]
_NO_TRIAL = -1  # SYSU's empty RegDB trial, so runs pair by plain equality
# Differences closer than this (percentage points) are equal: no spread to test against.
_SPREAD_TOLERANCE = 1e-9


def paired_deltas(results: pd.DataFrame, reference: str) -> pd.DataFrame:
    """One row per variant other than `reference` × dataset × protocol × primary metric (PAIRED_COLUMNS):
    the paired differences (variant − reference) over the runs both finished, their test, interval and verdict."""
    rows = results[results["metric"].isin(PAIRED_METRICS)]
    rows = rows.assign(regdb_trial=rows["regdb_trial"].fillna(_NO_TRIAL), code=rows.get("code", ""))
    setting = ["dataset", "protocol", "metric"]
    base = rows[rows["variant"] == reference][setting + _RUN + ["value"]].rename(columns={"value": "reference_value"})
    records = []
    for variant in dict.fromkeys(rows["variant"]):
        if variant == reference:
            continue
        ours = rows[rows["variant"] == variant]
        for (dataset, protocol, metric), group in ours.groupby(setting, sort=False):
            matched = group.merge(base, on=setting + _RUN)
            differences = (matched["value"] - matched["reference_value"]).to_numpy(dtype=float)
            trials = matched.loc[matched["regdb_trial"] != _NO_TRIAL, "regdb_trial"].nunique()
            records.append(
                {
                    "dataset": dataset,
                    "protocol": protocol,
                    "metric": metric,
                    "variant": variant,
                    "reference": reference,
                    "pairs": len(differences),
                    "seeds": matched["seed"].nunique(),
                    "regdb_trials": trials,
                    "test": TEST_NAME,
                    **paired_test(differences),
                }
            )
    frame = pd.DataFrame(records, columns=PAIRED_COLUMNS)
    return _ordered(adjust_families(frame), list(dict.fromkeys(rows["variant"])))


def paired_test(differences: np.ndarray) -> dict[str, float | str]:
    """mean_delta, sd_delta, t, p_value, ci_low, ci_high and a provisional verdict of one set of paired
    differences; the verdict of a tested row is set by adjust_families."""
    n = len(differences)
    mean = float(differences.mean()) if n else math.nan
    sd = float(differences.std(ddof=1)) if n > 1 else math.nan
    empty: dict[str, float | str] = {"mean_delta": mean, "sd_delta": sd, "t": math.nan, "p_value": math.nan}
    empty.update(ci_low=math.nan, ci_high=math.nan)
    if n < 2:
        return {**empty, "verdict": ONE_PAIR if n == 1 else NO_PAIRS}
    if np.ptp(differences) <= _SPREAD_TOLERANCE:
        return {**empty, "verdict": NO_VARIANCE}
    result = stats.ttest_1samp(differences, 0.0)
    half_width = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * sd / math.sqrt(n)
    return {
        "mean_delta": mean,
        "sd_delta": sd,
        "t": float(result.statistic),
        "p_value": float(result.pvalue),
        "ci_low": mean - half_width,
        "ci_high": mean + half_width,
        "verdict": UNRESOLVED,
    }


def holm(p_values: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (same order as given): the k-th smallest p times (m − k + 1), made
    non-decreasing along the ranking and capped at 1."""
    p = np.asarray(p_values, dtype=float)
    m = len(p)
    order = np.argsort(p, kind="stable")
    scaled = np.minimum(1.0, np.maximum.accumulate(p[order] * (m - np.arange(m))))
    adjusted = np.empty(m)
    adjusted[order] = scaled
    return adjusted


def adjust_families(frame: pd.DataFrame) -> pd.DataFrame:
    """family_size and p_holm for every tested row (a finite p), per dataset and metric, and its verdict from
    p_holm; untested rows keep their verdict and get no adjusted p."""
    frame = frame.copy()
    frame["p_holm"] = math.nan
    frame["family_size"] = 0
    tested = frame["p_value"].notna()
    for _, family in frame[tested].groupby(["dataset", "metric"], sort=False):
        frame.loc[family.index, "p_holm"] = holm(family["p_value"].to_numpy())
        frame.loc[family.index, "family_size"] = len(family)
    frame.loc[tested, "verdict"] = np.where(frame.loc[tested, "p_holm"] < ALPHA, RESOLVED, UNRESOLVED)
    return frame


def paired_notes(paired: pd.DataFrame) -> list[str]:
    """What the report must say about rows the test could not decide: one pair, or pairs without spread."""
    notes = []
    if (paired["verdict"] == ONE_PAIR).any():
        notes.append(
            "One pair of runs cannot resolve a difference: it has no spread to test against, so every Δ marked "
            f'"{ONE_PAIR}" may be noise. Run more seeds (--seeds N) or, on RegDB, more trials to resolve it.'
        )
    if (paired["verdict"] == NO_VARIANCE).any():
        notes.append(
            f'"{NO_VARIANCE}": every pair of runs differs by exactly the same amount, so the t statistic is '
            "undefined. That is not evidence of a difference (on small test sets a metric moves in fixed steps); "
            "more seeds give the test a spread to work with."
        )
    return notes


def verdicts(paired: pd.DataFrame) -> dict[tuple[str, str, str, str], str]:
    """{(variant, dataset, protocol, metric): verdict}, for marking the cells of a Δ table."""
    return {(r["variant"], r["dataset"], r["protocol"], r["metric"]): r["verdict"] for r in paired.to_dict("records")}


def _ordered(frame: pd.DataFrame, variants: list[str]) -> pd.DataFrame:
    protocols = [p for dataset in DATASETS for p in PROTOCOLS[dataset]]
    keys = {
        "dataset": lambda c: c.map(DATASETS.index),
        "variant": lambda c: c.map(variants.index),
        "protocol": lambda c: c.map(protocols.index),
        "metric": lambda c: c.map(PAIRED_METRICS.index),
    }
    order = ["dataset", "variant", "protocol", "metric"]
    return frame.sort_values(order, key=lambda column: keys[column.name](column)).reset_index(drop=True)
