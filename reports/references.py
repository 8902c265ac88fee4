"""The references in a report: the untrained floor (the starting network evaluated without training) and the
identity-label ceiling (oracle_labels: stage C on the true identities), drawn beside the variants so a reader sees
how much of the room between them each variant covers — its headroom share, (m − floor) / (ceiling − floor).

Each reference is summarised over exactly the seeds (and RegDB trials) the study's results show, the way the
variants are (RegDB: the mean over a seed's trials first), and every (dataset, seed, RegDB trial) of the results
without one is named, with the error that stopped it when the harness recorded one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from mmm.choices import REFERENCE_METHODS
from reports.display import fmt_integer
from reports.summary import per_seed, seed_summary

FLOOR_LABEL = "untrained floor"
CEILING_LABEL = "identity-label ceiling"
# What every row, line or variant that read the training identities is labelled with.
USES_IDENTITY_LABELS = "uses identity labels"
CEILING_NOTE = f"{USES_IDENTITY_LABELS}: a reference, not a method"
_UNIT = ["dataset", "seed", "regdb_trial"]
_SUMMARY_COLUMNS = ["variant", "dataset", "protocol", "metric", "mean", "sd", "n"]
_NO_TRIAL = -1  # stands for SYSU's empty RegDB trial, so units compare by plain equality


@dataclass(frozen=True)
class ReferenceTable:
    """One kind of reference as a report reads it: its label, its file and its rows (reports.schema's layout)."""

    label: str
    filename: str
    rows: pd.DataFrame

    def summary(self, results: pd.DataFrame) -> pd.DataFrame:
        """Mean, sd and seed count per dataset × protocol × metric over the units of `results`, in seed_summary's
        layout with the variant named by the label (its `best` column means nothing here)."""
        measured = _keyed(self.rows[self.rows["error"] == ""]).merge(_units(results), on=_UNIT)
        if measured.empty:
            return pd.DataFrame(columns=_SUMMARY_COLUMNS)
        return seed_summary(per_seed(measured.assign(variant=self.label)))[_SUMMARY_COLUMNS]

    def missing(self, results: pd.DataFrame, dataset: str) -> pd.DataFrame:
        """The units of `results` on `dataset` with no value: columns seed, regdb_trial (-1 on SYSU), error (what
        stopped it, or empty when the table holds nothing for the unit)."""
        units = _units(results[results["dataset"] == dataset])
        measured = _keyed(self.rows[self.rows["error"] == ""])[_UNIT].drop_duplicates()
        gaps = units.merge(measured, on=_UNIT, how="left", indicator=True)
        gaps = gaps[gaps["_merge"] == "left_only"][_UNIT]
        errors = _keyed(self.rows[self.rows["error"] != ""])[_UNIT + ["error"]].drop_duplicates(_UNIT)
        gaps = gaps.merge(errors, on=_UNIT, how="left").fillna({"error": ""})
        return gaps.sort_values(["seed", "regdb_trial"]).reset_index(drop=True)

    def missing_note(self, results: pd.DataFrame, dataset: str) -> str:
        """One sentence saying which of `dataset`'s references are missing and why; empty when none is."""
        gaps = self.missing(results, dataset)
        if gaps.empty:
            return ""
        measured_any = len(gaps) < len(_units(results[results["dataset"] == dataset]))
        named = []
        for record in gaps.to_dict("records"):
            unit = f"seed {fmt_integer(record['seed'])}"
            if record["regdb_trial"] != _NO_TRIAL:
                unit += f" trial {fmt_integer(record['regdb_trial'])}"
            named.append(f"{unit} ({record['error']})" if record["error"] else unit)
        word = self.label.split()[-1]
        reason = "" if any(gaps["error"]) else f" ({self.filename} holds no {word} for it: run the study to compute it)"
        scope = f"the {word} row and line use the others" if measured_any else f"so the report shows no {word}"
        return f"The {self.label} is missing for {', '.join(named)}{reason}; {scope}."


def reference_variants(results: pd.DataFrame) -> set[str]:
    """The variants whose method reads the training identities (oracle_matching, oracle_labels)."""
    if "method" not in results.columns:
        return set()
    return set(results.loc[results["method"].isin(REFERENCE_METHODS), "variant"])


def row_label(variant: str, labelled: set[str]) -> str:
    """A results row's name: the ceiling and identity-reading variants say that they use identity labels."""
    if variant == CEILING_LABEL:
        return f"{CEILING_LABEL} ({CEILING_NOTE})"
    return f"{variant} ({USES_IDENTITY_LABELS})" if variant in labelled else variant


def headroom_shares(summary: pd.DataFrame, floor: pd.DataFrame, ceiling: pd.DataFrame) -> pd.DataFrame:
    """Per variant × dataset × protocol × metric the share of the headroom its mean covers,
    (mean − floor) / (ceiling − floor) of the references' means; NaN where either reference is missing or the
    ceiling is not above the floor (no room to share)."""
    keys = ["dataset", "protocol", "metric"]
    levels = (
        floor[keys + ["mean"]]
        .rename(columns={"mean": "floor"})
        .merge(ceiling[keys + ["mean"]].rename(columns={"mean": "ceiling"}), on=keys)
    )
    merged = summary[["variant", *keys, "mean"]].merge(levels, on=keys, how="left")
    room = merged["ceiling"] - merged["floor"]
    share = (merged["mean"] - merged["floor"]) / room.where(room > 0)
    return merged.assign(share=share)[["variant", *keys, "share"]]


def share_lookup(shares: pd.DataFrame) -> dict[tuple[str, str, str, str], float]:
    """{(variant, dataset, protocol, metric): share}, the defined ones only."""
    return {
        (str(r["variant"]), str(r["dataset"]), str(r["protocol"]), str(r["metric"])): float(r["share"])
        for r in shares.to_dict("records")
        if not math.isnan(r["share"])
    }


def _units(results: pd.DataFrame) -> pd.DataFrame:
    return _keyed(results)[_UNIT].drop_duplicates()


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(regdb_trial=frame["regdb_trial"].fillna(_NO_TRIAL))
