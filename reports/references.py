"""The untrained floor in a report: what the starting network scores without training, as a reference beside the
variants, so a reader sees at once whether a variant learned anything.

The floor is summarised over exactly the seeds (and RegDB trials) the study's results show, the way the variants
are (RegDB: the mean over a seed's trials first), and every (dataset, seed, RegDB trial) of the results without a
floor is named, with the error that stopped it when the harness recorded one.
"""

from __future__ import annotations

import pandas as pd

from reports.display import fmt_integer
from reports.summary import per_seed, seed_summary

FLOOR_LABEL = "untrained floor"
_UNIT = ["dataset", "seed", "regdb_trial"]
_SUMMARY_COLUMNS = ["variant", "dataset", "protocol", "metric", "mean", "sd", "n"]
_NO_TRIAL = -1  # stands for SYSU's empty RegDB trial, so units compare by plain equality


def floor_summary(floor: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """Mean, sd and seed count of the floor per dataset × protocol × metric over the units of `results`, in
    seed_summary's layout with the variant named FLOOR_LABEL (its `best` column means nothing here)."""
    measured = _keyed(floor[floor["error"] == ""]).merge(_units(results), on=_UNIT)
    if measured.empty:
        return pd.DataFrame(columns=_SUMMARY_COLUMNS)
    return seed_summary(per_seed(measured.assign(variant=FLOOR_LABEL)))[_SUMMARY_COLUMNS]


def missing_floors(floor: pd.DataFrame, results: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """The units of `results` on `dataset` with no floor value: columns seed, regdb_trial (-1 on SYSU), error
    (what stopped it, or empty when floor.csv holds nothing for the unit)."""
    units = _units(results[results["dataset"] == dataset])
    measured = _keyed(floor[floor["error"] == ""])[_UNIT].drop_duplicates()
    gaps = units.merge(measured, on=_UNIT, how="left", indicator=True)
    gaps = gaps[gaps["_merge"] == "left_only"][_UNIT]
    errors = _keyed(floor[floor["error"] != ""])[_UNIT + ["error"]].drop_duplicates(_UNIT)
    gaps = gaps.merge(errors, on=_UNIT, how="left").fillna({"error": ""})
    return gaps.sort_values(["seed", "regdb_trial"]).reset_index(drop=True)


def missing_note(floor: pd.DataFrame, results: pd.DataFrame, dataset: str) -> str:
    """One sentence saying which floors of `dataset` are missing and why; empty when none is."""
    gaps = missing_floors(floor, results, dataset)
    if gaps.empty:
        return ""
    measured_any = len(gaps) < len(_units(results[results["dataset"] == dataset]))
    named = []
    for record in gaps.to_dict("records"):
        unit = f"seed {fmt_integer(record['seed'])}"
        if record["regdb_trial"] != _NO_TRIAL:
            unit += f" trial {fmt_integer(record['regdb_trial'])}"
        named.append(f"{unit} ({record['error']})" if record["error"] else unit)
    reason = "" if any(gaps["error"]) else " (floor.csv holds no floor for it: run the study to compute it)"
    scope = "the floor row and line use the others" if measured_any else "so the report shows no floor"
    return f"The untrained floor is missing for {', '.join(named)}{reason}; {scope}."


def _units(results: pd.DataFrame) -> pd.DataFrame:
    return _keyed(results)[_UNIT].drop_duplicates()


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(regdb_trial=frame["regdb_trial"].fillna(_NO_TRIAL))
