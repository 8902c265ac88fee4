"""How many paired runs resolve a difference of a given size: the power of the two-sided paired t-test
(reports.paired) from a measured sd of the per-run differences.

A difference in a Holm family of m tests is resolved for certain once its p is below α/m (Holm's strictest step),
so the counts here use α/m: enough at every step of the family. From a study's own pairs, or from given sds:

    python -m reports.power runs/ablation_sca/quick/paired_deltas.csv
    python -m reports.power --sd sysu:R1=1.4 --sd regdb:R1=3.8 --family 8
"""

from __future__ import annotations

import argparse
import math
import sys
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from reports.paired import ALPHA

POWER = 0.8
DELTAS = (1.0, 2.0, 5.0)
MAX_PAIRS = 200
QUANTILES = 4000


def paired_power(pairs: int, delta: float, sd: float, alpha: float) -> float:
    """Probability that the two-sided paired t-test at level alpha rejects, with `pairs` pairs whose differences
    have mean `delta` and sd `sd`: the noncentral t's two tails."""
    df = pairs - 1
    critical = float(stats.t.ppf(1 - alpha / 2, df))
    noncentrality = delta / (sd / math.sqrt(pairs))
    return _upper_tail(critical, df, noncentrality) + _upper_tail(critical, df, -noncentrality)


def _upper_tail(critical: float, df: int, noncentrality: float) -> float:
    """P(T > critical) for T = (Z + noncentrality) / sqrt(V / df), V ~ chi2(df): the mean over V's quantiles of
    P(Z > critical · sqrt(V / df) − noncentrality), by the midpoint rule on QUANTILES points (error well below
    1e-3, which a power compared against 0.8 does not need). scipy's nct gives NaN for few degrees of freedom and
    a large noncentrality, and adaptive quadrature of the near-zero lower tail warns of roundoff."""
    quantiles = (np.arange(QUANTILES) + 0.5) / QUANTILES
    scale = np.sqrt(stats.chi2.ppf(quantiles, df) / df)
    return float(stats.norm.sf(critical * scale - noncentrality).mean())


def pairs_to_resolve(delta: float, sd: float, alpha: float = ALPHA, power: float = POWER) -> int | None:
    """The fewest pairs (at least 2) whose test reaches `power` for a true difference `delta`; None beyond
    MAX_PAIRS."""
    for pairs in range(2, MAX_PAIRS + 1):
        if paired_power(pairs, abs(delta), sd, alpha) >= power:
            return pairs
    return None


def measured_sds(paired: pd.DataFrame) -> pd.DataFrame:
    """Per dataset and metric of a paired_deltas.csv: the pooled sd of the per-run differences (root of the
    degrees-of-freedom-weighted mean variance over its tested rows) and the size of its Holm family."""
    rows = paired[paired["sd_delta"].notna() & (paired["pairs"] > 1)]
    records = []
    for (dataset, metric), group in rows.groupby(["dataset", "metric"], sort=False):
        df = group["pairs"] - 1
        pooled = math.sqrt(float((df * group["sd_delta"] ** 2).sum() / df.sum()))
        family = int(group["family_size"].max()) if "family_size" in group else len(group)
        records.append({"dataset": dataset, "metric": metric, "sd": pooled, "family": max(family, 1)})
    return pd.DataFrame(records, columns=["dataset", "metric", "sd", "family"])


def resolution_table(sds: pd.DataFrame, deltas: Sequence[float] = DELTAS, power: float = POWER) -> pd.DataFrame:
    """For each dataset × metric row of `sds` (sd, family): the pairs that resolve each Δ at α/family."""
    records = []
    for row in sds.to_dict("records"):
        record = dict(row)
        for delta in deltas:
            record[f"Δ {delta:g}"] = pairs_to_resolve(delta, row["sd"], ALPHA / row["family"], power)
        records.append(record)
    return pd.DataFrame(records)


def markdown(table: pd.DataFrame) -> str:
    """The table as markdown, counts beyond MAX_PAIRS shown as "> MAX_PAIRS"."""
    columns = list(table.columns)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in table.to_dict("records"):
        cells = []
        for column in columns:
            value = row[column]
            if column == "sd":
                cells.append(f"{value:.2f}")
            elif column.startswith("Δ"):
                cells.append(f"> {MAX_PAIRS}" if value is None or pd.isna(value) else str(int(value)))
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _parse_sd(text: str) -> dict[str, object]:
    try:
        setting, value = text.split("=")
        dataset, metric = setting.split(":")
        return {"dataset": dataset, "metric": metric, "sd": float(value)}
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected DATASET:METRIC=SD (e.g. sysu:R1=1.4), got {text!r}") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reports.power", description=__doc__.split("\n\n")[0])
    parser.add_argument("paired", nargs="?", help="a paired_deltas.csv: the sds of its per-run differences")
    parser.add_argument("--sd", type=_parse_sd, action="append", default=[], help="DATASET:METRIC=SD, repeatable")
    parser.add_argument("--family", type=int, default=1, help="Holm family size for --sd rows (default 1)")
    parser.add_argument("--deltas", type=float, nargs="+", default=list(DELTAS), help="differences, points")
    parser.add_argument("--power", type=float, default=POWER, help=f"target power (default {POWER})")
    args = parser.parse_args(argv)
    given = pd.DataFrame(args.sd, columns=["dataset", "metric", "sd"]).assign(family=args.family)
    sds = pd.concat([measured_sds(pd.read_csv(args.paired)), given] if args.paired else [given])
    if sds.empty:
        parser.error("give a paired_deltas.csv or at least one --sd")
    sys.stdout.write(markdown(resolution_table(sds, args.deltas, args.power)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
