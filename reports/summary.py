"""Summary statistics of a study's results: per-seed values, mean ± sd over seeds, the best variant per
column, differences to the reference variant, and the cells that produced no result."""

from __future__ import annotations

import pandas as pd

from reports.schema import DATASETS, METRICS, OBJECTIVE_METRIC, OBJECTIVE_PROTOCOLS, REPORTED_PROTOCOLS

KEYS = ["variant", "dataset", "protocol", "metric"]
_PROTOCOL_ORDER = [protocol for dataset in DATASETS for protocol in REPORTED_PROTOCOLS[dataset]]


def variant_order(results: pd.DataFrame) -> list[str]:
    """Variants in the order the harness wrote them, which is the order the study declares them."""
    return list(dict.fromkeys(results["variant"]))


def per_seed(results: pd.DataFrame) -> pd.DataFrame:
    """One value per variant × dataset × protocol × metric × seed. RegDB trains one model per trial, so a
    seed's value is the mean over its trials (the protocol's reported number); SYSU has one row per seed."""
    seeds = results.groupby(KEYS + ["seed"], sort=False, dropna=False)["value"].mean().reset_index()
    return _canonical_order(seeds, variant_order(results))


def seed_summary(seeds: pd.DataFrame) -> pd.DataFrame:
    """Mean, sample sd (ddof 1; NaN with one seed) and seed count per variant × dataset × protocol × metric,
    with `best` marking the highest mean in each dataset × protocol × metric column (all metrics rise)."""
    summary = (
        seeds.groupby(KEYS, sort=False, observed=True)["value"].agg(mean="mean", sd="std", n="count").reset_index()
    )
    column_max = summary.groupby(["dataset", "protocol", "metric"], observed=True)["mean"].transform("max")
    summary["best"] = summary["mean"] == column_max
    return summary


def deltas(summary: pd.DataFrame, reference: str) -> pd.DataFrame:
    """Each variant's mean minus the reference variant's mean in the same dataset × protocol × metric."""
    columns = ["dataset", "protocol", "metric"]
    ref = summary[summary["variant"] == reference][columns + ["mean"]].rename(columns={"mean": "reference"})
    if ref.empty:
        raise ValueError(f"reference variant {reference!r} has no results")
    merged = summary.merge(ref, on=columns, how="left")
    merged["delta"] = merged["mean"] - merged["reference"]
    return merged[KEYS + ["mean", "reference", "delta"]]


def missing_cells(results: pd.DataFrame, failures: pd.DataFrame) -> pd.DataFrame:
    """Cells (variant × dataset × seed, over the variants, datasets and seeds the study shows) with no result
    and no recorded failure: a worker that died without writing its state leaves exactly this gap."""
    cell = ["variant", "dataset", "seed"]
    variants = list(dict.fromkeys(list(results["variant"]) + list(failures["variant"])))
    datasets = list(dict.fromkeys(list(results["dataset"]) + list(failures["dataset"])))
    seeds = sorted(set(results["seed"].dropna()) | set(pd.to_numeric(failures["seed"]).dropna()))
    expected = pd.MultiIndex.from_product([variants, datasets, seeds], names=cell).to_frame(index=False)
    seen = pd.concat(
        [results[cell], failures[cell].assign(seed=pd.to_numeric(failures["seed"]))], ignore_index=True
    ).drop_duplicates()
    gaps = expected.merge(seen, on=cell, how="left", indicator=True)
    return gaps[gaps["_merge"] == "left_only"][cell].reset_index(drop=True)


def is_search(results: pd.DataFrame) -> bool:
    """A tuning study stores several Optuna trials (different parameters) for the same cell; averaging them
    as if they were seeds would mix configurations, so such results are shown trial by trial."""
    if "optuna_trial" not in results.columns:
        return False
    cell = ["variant", "dataset", "seed", "regdb_trial"]
    return bool((results.groupby(cell, dropna=False)["optuna_trial"].nunique() > 1).any())


def search_trials(results: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """One row per search trial of a dataset, best objective first: columns trial, params_json, objective,
    then "<protocol> <metric>" holding the mean over the trial's rows (its RegDB splits)."""
    rows = results[results["dataset"] == dataset]
    wide = rows.pivot_table(
        index=["optuna_trial", "params_json"], columns=["protocol", "metric"], values="value", aggfunc="mean"
    )
    wide.columns = [f"{protocol} {metric}" for protocol, metric in wide.columns]
    objective = f"{OBJECTIVE_PROTOCOLS[dataset]} {OBJECTIVE_METRIC}"
    wide["objective"] = wide[objective] if objective in wide.columns else float("nan")
    wide = wide.sort_values("objective", ascending=False, na_position="last").reset_index()
    return wide.rename(columns={"optuna_trial": "trial"})


def stage_time_summary(stages: pd.DataFrame) -> pd.DataFrame:
    """Per variant × dataset × stage: stages computed, stages loaded from the cache, and the mean and total
    seconds of the computed ones (a cache load times the disk, not the stage)."""
    computed = stages.assign(computed_seconds=stages["seconds"].where(~stages["cached"]))
    table = (
        computed.groupby(["variant", "dataset", "stage"], sort=False)
        .agg(
            computed=("cached", lambda cached: int((~cached).sum())),
            cached=("cached", "sum"),
            mean_seconds=("computed_seconds", "mean"),
            total_seconds=("computed_seconds", "sum"),
        )
        .reset_index()
    )
    return table.astype({"cached": int})


def _canonical_order(frame: pd.DataFrame, variants: list[str]) -> pd.DataFrame:
    """Categoricals keep tables and figures in the paper's order rather than alphabetical order."""
    ordered = frame.assign(
        variant=pd.Categorical(frame["variant"], categories=variants, ordered=True),
        dataset=pd.Categorical(frame["dataset"], categories=list(DATASETS), ordered=True),
        protocol=pd.Categorical(frame["protocol"], categories=_PROTOCOL_ORDER, ordered=True),
        metric=pd.Categorical(frame["metric"], categories=list(METRICS), ordered=True),
    )
    return ordered.sort_values(KEYS + ["seed"]).reset_index(drop=True)
