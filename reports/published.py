"""Published numbers (package data) set beside ours: peers' absolute results on real data, and the paper's
ablation either as absolute numbers (real data) or as differences to its reference row (synthetic data,
where only the direction and size of an effect can be compared)."""

from __future__ import annotations

from importlib.resources import files
from typing import Mapping

import pandas as pd

PAPER_REFERENCE_ROW = "full MMM"
# The method this bench reproduces; its published row is emphasised among the peers.
PAPER_METHOD = "MMM"
# Published tables call rank-1 "rank1"; ours call it "R1".
_PUBLISHED_METRICS = {"rank1": "R1", "mAP": "mAP", "mINP": "mINP"}
ABLATION_METRICS = ("R1", "mAP")


def published_results() -> pd.DataFrame:
    """MMM and its peers, one row per method × dataset × protocol, metrics named as in our tables."""
    return _read("published_results.csv").rename(columns=_PUBLISHED_METRICS)


def published_ablation() -> pd.DataFrame:
    """The paper's component ablation, one row per published row name × dataset × protocol."""
    return _read("published_ablation.csv").rename(columns=_PUBLISHED_METRICS)


def variant_rows_for(variants: list[str], mapping: Mapping[str, str] | None) -> dict[str, str]:
    """Our variant → published ablation row. Without a mapping in provenance, a variant maps only when it
    carries a published row's own name."""
    if mapping:
        return {variant: mapping[variant] for variant in variants if variant in mapping}
    names = set(published_ablation()["variant"])
    return {variant: variant for variant in variants if variant in names}


def peer_comparison(summary: pd.DataFrame, dataset: str, protocol: str) -> pd.DataFrame:
    """Our variants' means (with sd) above every published method for one dataset × protocol."""
    ours = summary[(summary["dataset"] == dataset) & (summary["protocol"] == protocol)]
    means = ours.pivot_table(index="variant", columns="metric", values="mean", observed=True)
    sds = ours.pivot_table(index="variant", columns="metric", values="sd", observed=True, dropna=False)
    rows: list[dict[str, object]] = []
    for variant in means.index:
        row: dict[str, object] = {"who": "ours", "name": variant, "venue": "this run", "source": ""}
        for metric in _PUBLISHED_METRICS.values():
            row[metric] = _lookup(means, variant, metric)
            row[f"{metric} sd"] = _lookup(sds, variant, metric)
        rows.append(row)
    peers = published_results()
    peers = peers[(peers["dataset"] == dataset) & (peers["protocol"] == protocol)]
    for peer in peers.to_dict("records"):
        row = {"who": peer["supervision"], "name": peer["method"], "venue": peer["venue"], "source": peer["source"]}
        row.update({metric: peer[metric] for metric in _PUBLISHED_METRICS.values()})
        rows.append(row)
    return pd.DataFrame(rows)


def paper_reference_row(rows_by_variant: Mapping[str, str], reference: str) -> str:
    """The published row our reference variant stands for; the paper's own reference when unmapped."""
    return rows_by_variant.get(reference, PAPER_REFERENCE_ROW)


def ablation_comparison(
    summary: pd.DataFrame, rows_by_variant: Mapping[str, str], reference: str, as_deltas: bool
) -> pd.DataFrame:
    """Per dataset × protocol the paper reports an ablation for: each mapped variant with its published row,
    the paper's number and ours for R1 and mAP. With as_deltas both sides are differences to their own
    reference (our reference variant; the published row it maps to, else the paper's full MMM), and the
    reference pair itself, zero on both sides, is left out."""
    index = ["dataset", "protocol", "variant"]
    paper = published_ablation().set_index(index)
    ours = summary.pivot_table(index=index, columns="metric", values="mean", observed=True)
    paper_reference = paper_reference_row(rows_by_variant, reference)
    records: list[dict[str, object]] = []
    for dataset, protocol in paper.index.droplevel("variant").unique():
        for variant, row_name in rows_by_variant.items():
            if as_deltas and variant == reference:
                continue
            paper_key, our_key = (dataset, protocol, row_name), (dataset, protocol, variant)
            if paper_key not in paper.index or our_key not in ours.index:
                continue
            record: dict[str, object] = {
                "dataset": dataset,
                "protocol": protocol,
                "variant": variant,
                "paper row": row_name,
            }
            for metric in ABLATION_METRICS:
                paper_value = _lookup(paper, paper_key, metric)
                our_value = _lookup(ours, our_key, metric)
                if as_deltas:
                    paper_value -= _lookup(paper, (dataset, protocol, paper_reference), metric)
                    our_value -= _lookup(ours, (dataset, protocol, reference), metric)
                record[f"paper {metric}"] = paper_value
                record[f"ours {metric}"] = our_value
            records.append(record)
    return pd.DataFrame(records)


def _lookup(frame: pd.DataFrame, key: object, column: str) -> float:
    """frame.at[key, column] as a float, NaN where the row or the column is absent."""
    if column not in frame.columns or key not in frame.index:
        return float("nan")
    return float(frame.at[key, column])


def _read(name: str) -> pd.DataFrame:
    with files("reports").joinpath("data").joinpath(name).open("r", encoding="utf-8") as handle:
        return pd.read_csv(handle)
