"""Whether the seeds resolve each difference to the reference variant: per variant, dataset, protocol and primary
metric, the variant's and the reference's values paired by seed (RegDB trials both ran are averaged within a
seed first, so the test is over seeds, never over splits) and a two-sided paired t-test at α = 0.05.

A difference is "resolved" when the test rejects equal means, otherwise "unresolved"; with fewer than two pairs
no test exists, so one seed is always "unresolved (1 seed)". When every pair differs by the same amount the t
statistic is infinite (p = 0, resolved) for a nonzero difference and undefined (p = 1, unresolved) for none;
scipy would only warn about lost precision there, so those cases are decided before calling it.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from reports.schema import DATASETS, PROTOCOLS

PAIRED_METRICS = ("R1", "mAP")
ALPHA = 0.05
TEST_NAME = "two-sided paired t-test (scipy.stats.ttest_rel) at α = 0.05"
RESOLVED = "resolved"
UNRESOLVED = "unresolved"
ONE_SEED = "unresolved (1 seed)"
NO_PAIRS = "unresolved (no shared seed)"
PAIRED_COLUMNS = [
    "dataset",
    "protocol",
    "metric",
    "variant",
    "reference",
    "pairs",
    "seeds",
    "mean_delta",
    "sd_delta",
    "t",
    "p_value",
    "test",
    "verdict",
]
_RUN = ["seed", "regdb_trial"]
_NO_TRIAL = -1  # SYSU's empty RegDB trial, so runs pair by plain equality


def paired_deltas(results: pd.DataFrame, reference: str) -> pd.DataFrame:
    """One row per variant other than `reference` × dataset × protocol × primary metric (PAIRED_COLUMNS):
    the mean of the paired differences (variant − reference, percentage points), its sd, the test and verdict."""
    rows = results[results["metric"].isin(PAIRED_METRICS)]
    rows = rows.assign(regdb_trial=rows["regdb_trial"].fillna(_NO_TRIAL))
    setting = ["dataset", "protocol", "metric"]
    base = rows[rows["variant"] == reference][setting + _RUN + ["value"]].rename(columns={"value": "reference_value"})
    records = []
    for variant in dict.fromkeys(rows["variant"]):
        if variant == reference:
            continue
        ours = rows[rows["variant"] == variant]
        for (dataset, protocol, metric), group in ours.groupby(setting, sort=False):
            matched = group.merge(base, on=setting + _RUN).groupby("seed")[["value", "reference_value"]].mean()
            values = matched["value"].to_numpy(dtype=float)
            reference_values = matched["reference_value"].to_numpy(dtype=float)
            differences = values - reference_values
            t, p, verdict = paired_test(values, reference_values)
            records.append(
                {
                    "dataset": dataset,
                    "protocol": protocol,
                    "metric": metric,
                    "variant": variant,
                    "reference": reference,
                    "pairs": len(differences),
                    "seeds": len(matched),
                    "mean_delta": float(differences.mean()) if len(differences) else math.nan,
                    "sd_delta": float(differences.std(ddof=1)) if len(differences) > 1 else math.nan,
                    "t": t,
                    "p_value": p,
                    "test": TEST_NAME,
                    "verdict": verdict,
                }
            )
    return _ordered(pd.DataFrame(records, columns=PAIRED_COLUMNS), list(dict.fromkeys(rows["variant"])))


def paired_test(values: np.ndarray, reference_values: np.ndarray) -> tuple[float, float, str]:
    """(t, two-sided p, verdict) of a variant's values against the reference's, pair by pair."""
    differences = values - reference_values
    if len(differences) < 2:
        return math.nan, math.nan, ONE_SEED if len(differences) == 1 else NO_PAIRS
    if np.ptp(differences) == 0:
        if differences[0] == 0:
            return math.nan, 1.0, UNRESOLVED
        return math.copysign(math.inf, differences[0]), 0.0, RESOLVED
    result = stats.ttest_rel(values, reference_values)
    p = float(result.pvalue)
    return float(result.statistic), p, RESOLVED if p < ALPHA else UNRESOLVED


def seed_notes(paired: pd.DataFrame) -> list[str]:
    """What the report must say about single seeds: that one seed resolves nothing."""
    notes = []
    if (paired["verdict"] == ONE_SEED).any():
        notes.append(
            "One seed cannot resolve a difference: a single pair of runs has no spread to test against, so every "
            'Δ marked "unresolved (1 seed)" may be noise (RegDB trials of one seed are averaged, not tested as '
            "pairs). Run more seeds (--seeds N) to resolve it."
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
