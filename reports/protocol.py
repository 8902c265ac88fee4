"""The evaluation protocol behind a report's numbers, stated per dataset (gallery draws, single-shot, the
cam-3/cam-2 rule; RegDB trials and directions), with the values each mean averages and their spread: SYSU-MM01's
gallery draws per run, RegDB's trials per seed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import pandas as pd

from reports.display import NO_VALUE, Cell, DisplayTable, fmt_number, fmt_text
from reports.schema import DATASET_LABELS, PROTOCOL_LABELS, PROTOCOLS
from reports.summary import per_seed, variant_order

TRIAL_METRICS = ("R1", "mAP")
_RUN_KEYS = ["variant", "seed", "metric"]


@dataclass(frozen=True)
class TrialTable:
    label: str
    table: DisplayTable


@dataclass(frozen=True)
class ProtocolBlock:
    """One dataset: the protocol as sentences, then per protocol the values behind each mean."""

    label: str
    facts: list[str]
    tables: list[TrialTable]
    note: str  # why per-trial values are missing, when they are


def protocol_blocks(
    results: pd.DataFrame,
    eval_trials: pd.DataFrame,
    data_source: object,
    search: bool,
    validation: Mapping[str, Any] | None = None,
) -> list[ProtocolBlock]:
    """A block per dataset the results hold (last-epoch results expected). A tuning search's runs differ in
    their parameters and are scored on the validation split, so its blocks state that protocol (`validation`:
    provenance's record of each dataset's held-out identities) without per-run tables."""
    if search:
        return _validation_blocks(results, eval_trials, validation or {})
    real = data_source == "real"
    blocks = []
    if (results["dataset"] == "sysu").any():
        blocks.append(_sysu_block(results, eval_trials, real))
    if (results["dataset"] == "regdb").any():
        blocks.append(_regdb_block(results, real))
    return blocks


def _validation_blocks(
    results: pd.DataFrame, eval_trials: pd.DataFrame, validation: Mapping[str, Any]
) -> list[ProtocolBlock]:
    note = "Each search trial has its own parameters; its per-draw values are in eval_trials.csv."
    blocks = []
    for dataset in DATASET_LABELS:
        if not (results["dataset"] == dataset).any():
            continue
        record = validation.get(dataset) or {}
        held_out = record.get("held_out") or []
        chosen = f"{record['rule']} ({len(held_out)} identities, listed in provenance.json)" if record else ""
        facts = [
            "Search trials are scored on a validation split, never on the test set: identities held out of the "
            "training split, which the search trains without. " + (f"Held out: {chosen}." if chosen else ""),
        ]
        if dataset == "sysu":
            draws = eval_trials[eval_trials["dataset"] == "sysu"]["eval_trial"].nunique()
            facts.append(
                "Scored in the all-search shape: the held-out identities' infrared images (cameras 3 and 6) query "
                "single-shot visible galleries drawn from cameras 1, 2, 4 and 5 (a camera-3 query ignores camera 2), "
                + (f"{draws} draws averaged." if draws else "the draws averaged.")
            )
        else:
            facts.append(
                "Scored in both directions over the held-out identities: visible→infrared and infrared→visible."
            )
        blocks.append(ProtocolBlock(DATASET_LABELS[dataset], [fact.strip() for fact in facts], [], note))
    return blocks


def _sysu_block(results: pd.DataFrame, eval_trials: pd.DataFrame, real: bool) -> ProtocolBlock:
    draws = eval_trials[eval_trials["dataset"] == "sysu"]
    count = draws["eval_trial"].nunique()
    averaged = (
        f"Each run's value is the mean over {count} gallery draw{'s' if count != 1 else ''} (draw t picks its "
        "images with a random generator seeded with t); the table below lists every draw."
        if count
        else "Each run's value is a mean over gallery draws; how many was not recorded (no eval_trials.csv)."
    )
    facts = [
        "Query: every infrared test image (cameras 3 and 6).",
        "Gallery: single-shot, one visible image per identity and camera, drawn at random; all-search draws "
        "from cameras 1, 2, 4 and 5, indoor-search from cameras 1 and 2.",
        "A query from camera 3 ignores gallery images from camera 2 (the two cameras share a room).",
        averaged,
        "Rank-k counts each identity once (its first occurrence in the ranking); mAP and mINP use the full ranking.",
    ]
    if real:
        facts.append(
            "The real test set: 96 identities and 3,803 infrared queries; one all-search draw holds 301 "
            "gallery images, one indoor draw 112."
        )
    tables = []
    for protocol in PROTOCOLS["sysu"]:
        values = draws[(draws["protocol"] == protocol) & draws["metric"].isin(TRIAL_METRICS)]
        means = results[(results["dataset"] == "sysu") & (results["protocol"] == protocol)]
        if values.empty or means.empty:
            continue
        label = f"{DATASET_LABELS['sysu']} {PROTOCOL_LABELS[protocol]}: each gallery draw of each run"
        tables.append(
            TrialTable(
                label,
                trial_display(values.rename(columns={"eval_trial": "trial"}), means, "draw", variant_order(results)),
            )
        )
    note = "" if tables else "The runs did not record their per-draw values (no eval_trials.csv)."
    return ProtocolBlock(DATASET_LABELS["sysu"], facts, tables, note)


def _regdb_block(results: pd.DataFrame, real: bool) -> ProtocolBlock:
    rows = results[results["dataset"] == "regdb"]
    trials = sorted(int(t) for t in rows["regdb_trial"].dropna().unique())
    split = (
        "206 training and 206 test identities, 10 visible and 10 thermal images each"
        if real
        else "half the identities for training, half for testing"
    )
    facts = [
        f"Trials: {len(trials)} of the 10 idx/ splits ({', '.join(map(str, trials))}); each holds {split}, and "
        "each trains its own model.",
        "Visible→infrared: every visible test image queries all thermal test images; infrared→visible swaps "
        "them. No camera rule applies (one camera per modality).",
        "A seed's value is the mean over its trials; the table below lists every trial.",
    ]
    seeds = per_seed(rows).rename(columns={"value": "mean"})
    tables = []
    for protocol in PROTOCOLS["regdb"]:
        values = rows[(rows["protocol"] == protocol) & rows["metric"].isin(TRIAL_METRICS)]
        if values.empty:
            continue
        label = f"{DATASET_LABELS['regdb']} {PROTOCOL_LABELS[protocol]}: each trial of each seed"
        means = seeds[seeds["protocol"] == protocol].rename(columns={"mean": "value"})
        tables.append(
            TrialTable(
                label,
                trial_display(values.rename(columns={"regdb_trial": "trial"}), means, "trial", variant_order(results)),
            )
        )
    return ProtocolBlock(DATASET_LABELS["regdb"], facts, tables, "")


def trial_display(values: pd.DataFrame, means: pd.DataFrame, word: str, variants: list[str]) -> DisplayTable:
    """Rows variant × seed × metric; a column per trial, then the reported mean (from `means`, the number the
    results tables show) and the sample sd over the trials."""
    trials = sorted(int(t) for t in values["trial"].unique())
    grid = values.pivot_table(index=_RUN_KEYS, columns="trial", values="value", aggfunc="first")
    spread = values.groupby(_RUN_KEYS)["value"].std()
    reported = means.groupby(_RUN_KEYS)["value"].first()
    order = {variant: position for position, variant in enumerate(variants)}
    keys = sorted(grid.index, key=lambda key: (order.get(key[0], len(order)), key[1], TRIAL_METRICS.index(key[2])))
    rows = []
    for key in keys:
        variant, seed, metric = key
        cells = [Cell(str(variant)), Cell(fmt_text(_integer_text(seed)), "num"), Cell(str(metric))]
        cells += [
            Cell(fmt_number(grid.at[key, trial]) if trial in grid.columns else NO_VALUE, "num") for trial in trials
        ]
        cells.append(Cell(fmt_number(reported.get(key)), "num ref"))
        cells.append(Cell(fmt_number(spread.get(key)), "num"))
        rows.append(cells)
    columns = ["variant", "seed", "metric"] + [f"{word} {trial}" for trial in trials]
    return DisplayTable(columns=columns + ["mean (reported)", f"sd over {word}s"], rows=rows)


def _integer_text(value: object) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
