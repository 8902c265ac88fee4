"""The report's result tables as display tables: mean ± sd per dataset with the references (untrained floor,
identity-label ceiling) beneath the variants, differences to the reference variant with whether the seeds resolve
them and each variant's share of the headroom, our numbers beside published peers, and our ablation beside the
paper's."""

from __future__ import annotations

import json
from typing import Any, Callable, Collection, Mapping, Sequence

import pandas as pd

from reports.display import (
    NO_VALUE,
    Cell,
    DisplayTable,
    HeaderGroup,
    delta_css,
    fmt_delta,
    fmt_integer,
    fmt_mean_sd,
    fmt_number,
    fmt_p,
    fmt_params,
    fmt_seconds,
    fmt_significant,
    fmt_text,
    frame_display,
    is_missing,
)
from reports.paired import PAIRED_METRICS, RESOLVED
from reports.published import ABLATION_METRICS, PAPER_METHOD
from reports.references import CEILING_LABEL, FLOOR_LABEL, row_label
from reports.schema import (
    DATASET_LABELS,
    METRICS,
    OBJECTIVE_METRIC,
    OBJECTIVE_PROTOCOLS,
    PRIMARY_PROTOCOLS,
    PROTOCOL_LABELS,
    PROTOCOLS,
    REPORTED_PROTOCOLS,
    stage_order,
)

_PEER_METRICS = ("R1", "mAP", "mINP")
_TRIAL_METRICS = ("R1", "mAP")
# The CSS class of each reference's row.
_REFERENCE_CSS = {FLOOR_LABEL: "floor", CEILING_LABEL: "ceiling"}
# Δ cells: (variant, dataset, protocol, metric) -> share of the headroom between floor and ceiling.
Shares = Mapping[tuple[str, str, str, str], float]


def summary_display(
    summary: pd.DataFrame,
    dataset: str,
    references: Sequence[pd.DataFrame] = (),
    labelled: Collection[str] = (),
) -> DisplayTable:
    """Variants down, protocol × metric across; each cell mean ± sd over seeds, the column's best marked,
    and a cell resting on fewer seeds than the dataset's fullest one (a failed cell) says how many. With a
    single seed throughout there is no spread to show, so cells hold the value alone. `references`
    (reports.references summaries: floor, ceiling) add last rows that are never marked best; `labelled` variants
    read identity labels and say so."""
    full_count = summary.loc[summary["dataset"] == dataset, "n"].max()
    frame = pd.concat([summary, *(r for r in references if not r.empty)], ignore_index=True)

    def cell(row: pd.Series) -> Cell:
        reference = _REFERENCE_CSS.get(str(row["variant"]))
        css = f"num {reference}" if reference else _best_css(row)
        if full_count == 1:
            return Cell(fmt_number(row["mean"]), css)
        count = f" (n={row['n']})" if row["n"] < full_count else ""
        return Cell(fmt_mean_sd(row["mean"], row["sd"]) + count, css)

    return _grid(frame, dataset, cell, labelled)


def delta_display(
    deltas: pd.DataFrame,
    dataset: str,
    reference: str,
    verdicts: Mapping[tuple[str, str, str, str], str],
    shares: Shares | None = None,
    labelled: Collection[str] = (),
) -> DisplayTable:
    """Same grid as the summary, holding differences of means to the reference variant, whose own row
    shows its absolute means so the differences have a base to read against. A difference the paired test
    covers (reports.paired.verdicts) carries its verdict; an unresolved one is drawn muted. R1 and mAP cells
    carry the variant's share of the headroom between floor and ceiling where both exist."""

    def cell(row: pd.Series) -> Cell:
        key = (str(row["variant"]), dataset, str(row["protocol"]), str(row["metric"]))
        share = (shares or {}).get(key) if row["metric"] in PAIRED_METRICS else None
        headroom = "" if share is None else f" · {fmt_share(share)} of headroom"
        if row["variant"] == reference:
            return Cell(fmt_number(row["mean"]) + headroom, "num ref")
        verdict = verdicts.get(key)
        if verdict is None:
            return Cell(fmt_delta(row["delta"]) + headroom, delta_css(row["delta"]))
        css = delta_css(row["delta"]) + ("" if verdict == RESOLVED else " unresolved")
        return Cell(f"{fmt_delta(row['delta'])} {verdict}{headroom}", css)

    return _grid(deltas, dataset, cell, labelled)


def fmt_share(share: float) -> str:
    """A headroom share as a whole percentage (below 0: under the floor; above 100: over the ceiling)."""
    return f"{share * 100:.0f}%".replace("-", "−")


def paired_display(paired: pd.DataFrame, dataset: str) -> DisplayTable:
    """The paired test of one dataset: per variant, protocol and metric the pairs (runs, seeds), the mean
    paired difference with its sd and 95% interval, t, the raw and the Holm-adjusted p, and the verdict."""
    rows = []
    for record in paired[paired["dataset"] == dataset].to_dict("records"):
        resolved = record["verdict"] == RESOLVED
        rows.append(
            [
                Cell(str(record["variant"])),
                Cell(PROTOCOL_LABELS[record["protocol"]]),
                Cell(record["metric"]),
                Cell(fmt_integer(record["pairs"]), "num"),
                Cell(fmt_integer(record["seeds"]), "num"),
                Cell(fmt_delta(record["mean_delta"]), delta_css(record["mean_delta"])),
                Cell(fmt_number(record["sd_delta"]), "num"),
                Cell(_fmt_interval(record["ci_low"], record["ci_high"]), "num"),
                Cell(fmt_number(record["t"]), "num"),
                Cell(fmt_p(record["p_value"]), "num"),
                Cell(_fmt_adjusted(record["p_holm"], record["family_size"]), "num"),
                Cell(record["verdict"], "resolved" if resolved else "unresolved"),
            ]
        )
    columns = ["variant", "protocol", "metric", "pairs", "seeds", "mean Δ", "sd of Δ", "95% interval", "t", "p"]
    return DisplayTable(columns=columns + ["p (Holm, of m)", "verdict"], rows=rows)


def noise_test_display(tests: pd.DataFrame, dataset: str) -> DisplayTable:
    """The noise study's tests of one dataset (reports.noise.noise_tests): the paired table with r first."""
    table = paired_display(tests, dataset)
    levels = tests.loc[tests["dataset"] == dataset, "r"]
    rows = [[Cell(fmt_number(level), "num"), *row] for level, row in zip(levels, table.rows)]
    return DisplayTable(columns=["r", *table.columns], rows=rows)


def _fmt_interval(low: float, high: float) -> str:
    if is_missing(low) or is_missing(high):
        return NO_VALUE
    return f"[{fmt_delta(low)}, {fmt_delta(high)}]"


def _fmt_adjusted(p_holm: float, family_size: object) -> str:
    if is_missing(p_holm):
        return NO_VALUE
    return f"{fmt_p(p_holm)} (of {fmt_integer(family_size)})"


def peer_display(comparison: pd.DataFrame) -> DisplayTable:
    """Our variants (mean ± sd, highlighted) above the published methods for one dataset × protocol."""
    rows = []
    for record in comparison.to_dict("records"):
        ours = record["who"] == "ours"
        css = "ours" if ours else ("paper" if record["name"] == PAPER_METHOD else "")
        metrics = [
            Cell(fmt_mean_sd(record[m], record[f"{m} sd"]) if ours else fmt_number(record[m]), f"num {css}")
            for m in _PEER_METRICS
        ]
        rows.append(
            [Cell(record["name"], css), Cell(fmt_text(record["venue"]), css), Cell(record["who"], css)]
            + metrics
            + [Cell(fmt_text(record["source"]), f"small {css}")]
        )
    return DisplayTable(columns=["method", "venue", "supervision", *_PEER_METRICS, "source"], rows=rows)


def ablation_display(comparison: pd.DataFrame, as_deltas: bool) -> DisplayTable:
    """Each mapped variant with its published row: paper and ours side by side per metric."""
    fmt = fmt_delta if as_deltas else fmt_number
    rows = []
    for record in comparison.to_dict("records"):
        setting = f"{DATASET_LABELS[record['dataset']]} {PROTOCOL_LABELS[record['protocol']]}"
        cells = [Cell(setting), Cell(record["variant"]), Cell(record["paper row"])]
        for metric in ABLATION_METRICS:
            for side in ("paper", "ours"):
                value = record[f"{side} {metric}"]
                cells.append(Cell(fmt(value), delta_css(value) if as_deltas else "num"))
        rows.append(cells)
    prefix = "Δ" if as_deltas else ""
    groups = [HeaderGroup("", 3)] + [HeaderGroup(f"{prefix}{metric}", 2) for metric in ABLATION_METRICS]
    columns = ["setting", "our variant", "paper row"] + ["paper", "ours"] * len(ABLATION_METRICS)
    return DisplayTable(columns=columns, rows=rows, groups=groups)


def trials_display(
    trials: pd.DataFrame, dataset: str, limit: int, references: Sequence[pd.DataFrame] = ()
) -> DisplayTable:
    """The best `limit` search trials: objective, then R1 and mAP per protocol, then the parameters; the
    best trial's row marked. `references` (reports.references summaries: floor, ceiling) add last rows."""
    protocols = [p for p in REPORTED_PROTOCOLS[dataset] if f"{p} mAP" in trials.columns or f"{p} R1" in trials.columns]
    rows = []
    for index, record in enumerate(trials.head(limit).to_dict("records")):
        css = "num best" if index == 0 else "num"
        cells = [Cell(fmt_text(record["trial"]), css), Cell(fmt_number(record["objective"]), css)]
        for protocol in protocols:
            cells += [Cell(fmt_number(record.get(f"{protocol} {metric}")), css) for metric in _TRIAL_METRICS]
        rows.append(cells + [Cell(fmt_params(record["params_json"]), "small wrap")])
    for summary in references:
        means = {
            (r["protocol"], r["metric"]): r["mean"] for r in summary[summary["dataset"] == dataset].to_dict("records")
        }
        if not means:
            continue
        label = str(summary["variant"].iloc[0])
        css = _REFERENCE_CSS[label]
        cells = [
            Cell(row_label(label, set()), css),
            Cell(fmt_number(means.get((OBJECTIVE_PROTOCOLS[dataset], OBJECTIVE_METRIC))), f"num {css}"),
        ]
        for protocol in protocols:
            cells += [Cell(fmt_number(means.get((protocol, metric))), f"num {css}") for metric in _TRIAL_METRICS]
        rows.append(cells + [Cell(NO_VALUE, "small")])
    objective = f"{OBJECTIVE_METRIC} {PROTOCOL_LABELS[OBJECTIVE_PROTOCOLS[dataset]]}"
    groups = (
        [HeaderGroup("", 2)]
        + [HeaderGroup(PROTOCOL_LABELS[p], len(_TRIAL_METRICS)) for p in protocols]
        + [HeaderGroup("", 1)]
    )
    columns = ["trial", f"objective ({objective})"] + list(_TRIAL_METRICS) * len(protocols) + ["parameters"]
    return DisplayTable(columns=columns, rows=rows, groups=groups)


def selection_display(selection: Mapping[str, Any], summary: pd.DataFrame, chosen: str, default: str) -> DisplayTable:
    """Per dataset, what the search chose and how it fared: the search trial, its validation objective (what chose
    it), then the primary protocol's test mAP of the choice and of the defaults in the final phase (mean ± sd over
    seeds), and the chosen parameters. `selection` is best_params.json; `summary` the final phase's seed summary."""
    objectives = selection.get("objective") or {}
    params = selection.get("params") or {}
    rows = []
    for dataset in DATASET_LABELS:
        if dataset not in objectives:
            continue
        objective = objectives[dataset]
        test_protocol = PRIMARY_PROTOCOLS[dataset]
        means = summary[
            (summary["dataset"] == dataset) & (summary["protocol"] == test_protocol) & (summary["metric"] == "mAP")
        ].set_index("variant")
        cells = [
            Cell(DATASET_LABELS[dataset]),
            Cell(fmt_integer(objective.get("trial")), "num"),
            Cell(f"{objective.get('complete_trials')} complete, {objective.get('pruned_trials')} pruned", "small"),
            Cell(fmt_number(objective.get("value")), "num"),
            Cell(PROTOCOL_LABELS.get(str(objective.get("protocol")), fmt_text(objective.get("protocol"))), "small"),
        ]
        for variant in (chosen, default):
            if variant in means.index:
                row = means.loc[variant]
                text = fmt_number(row["mean"]) if row["n"] == 1 else fmt_mean_sd(row["mean"], row["sd"])
                cells.append(Cell(text, "num"))
            else:
                cells.append(Cell(NO_VALUE, "num"))
        cells.append(Cell(PROTOCOL_LABELS[test_protocol], "small"))
        cells.append(Cell(fmt_params(json.dumps(params.get(dataset) or {})), "small wrap"))
        rows.append(cells)
    groups = [HeaderGroup("", 1), HeaderGroup("chosen on validation", 4), HeaderGroup("reported on test", 3)]
    columns = [
        "dataset",
        "search trial",
        "among",
        "validation mAP",
        "validation protocol",
        f"mAP, {chosen}",
        f"mAP, {default}",
        "test protocol",
        "parameters",
    ]
    return DisplayTable(columns=columns, rows=rows, groups=groups + [HeaderGroup("", 1)])


def stage_time_display(times: pd.DataFrame) -> DisplayTable:
    """Variant × dataset rows, one column per stage: mean computed seconds × how many, and how many came
    from the cache; then the total computed time of the row."""
    stages = stage_order(times["stage"])
    rows = []
    for (variant, dataset), group in times.groupby(["variant", "dataset"], sort=False):
        by_stage = group.set_index("stage")
        cells = [Cell(str(variant)), Cell(DATASET_LABELS[dataset])]
        for stage in stages:
            cells.append(Cell(_stage_text(by_stage.loc[stage]) if stage in by_stage.index else NO_VALUE, "num"))
        cells.append(Cell(fmt_seconds(group["total_seconds"].sum(min_count=1)), "num"))
        rows.append(cells)
    columns = ["variant", "dataset"] + stages + ["computed total"]
    return DisplayTable(columns=columns, rows=rows)


def _stage_text(row: pd.Series) -> str:
    parts = []
    if row["computed"]:
        parts.append(f"{fmt_seconds(row['mean_seconds'])} × {row['computed']}")
    if row["cached"]:
        parts.append(f"cache × {row['cached']}")
    return ", ".join(parts) or NO_VALUE


def importance_display(importances: pd.DataFrame) -> DisplayTable:
    """Per dataset (when the table has one), parameters by falling importance, each with a bar scaled to
    the dataset's most important one; rows without a parameter carry the note saying why."""
    frame = importances.assign(dataset=importances.get("dataset", ""), note=importances.get("note", ""))
    by_dataset = "dataset" in importances.columns
    with_notes = bool((frame["note"].fillna("") != "").any())
    rows = []
    for dataset, group in frame.groupby("dataset", sort=False):
        ordered = group.sort_values("importance", ascending=False, na_position="last")
        top = ordered["importance"].max()
        for record in ordered.to_dict("records"):
            value = record["importance"]
            bar = None if is_missing(value) else (value / top if top > 0 else 0.0)
            cells = [Cell(DATASET_LABELS.get(dataset, fmt_text(dataset)))] if by_dataset else []
            cells += [
                Cell(fmt_text(record["param"])),
                Cell(fmt_number(value, 3), "num bar" if bar is not None else "num", bar=bar),
            ]
            rows.append(cells + ([Cell(fmt_text(record["note"]), "small")] if with_notes else []))
    columns = (["dataset"] if by_dataset else []) + ["parameter", "importance"] + (["note"] if with_notes else [])
    return DisplayTable(columns=columns, rows=rows)


def failure_display(failures: pd.DataFrame) -> DisplayTable:
    """Failed cells with their error text kept whole (wrapped, monospace): it is what a reader acts on."""
    table = frame_display(
        failures[["cell_id", "variant", "dataset", "seed", "state", "error"]], formats={"seed": fmt_integer}
    )
    rows = [row[:-1] + [Cell(row[-1].text, "wrap error")] for row in table.rows]
    return DisplayTable(columns=table.columns, rows=rows)


def missing_display(gaps: pd.DataFrame) -> DisplayTable:
    return frame_display(gaps, formats={"seed": fmt_integer})


def benchmark_display(timings: pd.DataFrame) -> DisplayTable:
    """The benchmark timing table with counts as integers and timings to four significant digits."""
    return frame_display(
        timings,
        formats={
            "N": fmt_integer,
            "D": fmt_integer,
            "threads": fmt_integer,
            "median s": fmt_significant,
            "IQR s": fmt_significant,
            "ratio to floor": lambda ratio: fmt_number(ratio, 2),
            "peak MB": lambda peak: fmt_number(peak, 0),
        },
        numeric=("N", "D", "threads", "median s", "IQR s", "ratio to floor", "peak MB"),
    )


def _grid(
    frame: pd.DataFrame, dataset: str, make_cell: Callable[[pd.Series], Cell], labelled: Collection[str] = ()
) -> DisplayTable:
    """Variant rows × (protocol, metric) columns of one dataset, in the paper's order."""
    rows_of_dataset = frame[frame["dataset"] == dataset]
    protocols = [p for p in PROTOCOLS[dataset] if p in set(rows_of_dataset["protocol"])]
    metrics = [m for m in METRICS if m in set(rows_of_dataset["metric"])]
    by_key = {(r["variant"], r["protocol"], r["metric"]): r for _, r in rows_of_dataset.iterrows()}
    variants = list(dict.fromkeys(rows_of_dataset["variant"]))
    rows = []
    for variant in variants:
        cells = [Cell(row_label(str(variant), set(labelled)), _REFERENCE_CSS.get(str(variant), ""))]
        for protocol in protocols:
            for metric in metrics:
                row = by_key.get((variant, protocol, metric))
                cells.append(Cell(NO_VALUE, "num") if row is None else make_cell(row))
        rows.append(cells)
    groups = [HeaderGroup("", 1)] + [HeaderGroup(PROTOCOL_LABELS[p], len(metrics)) for p in protocols]
    return DisplayTable(columns=["variant"] + metrics * len(protocols), rows=rows, groups=groups)


def _best_css(row: pd.Series) -> str:
    return "num best" if row["best"] else "num"
