"""Results of other code kept on purpose (the harness's --keep-stale): which variants of a dataset rest on them,
the mark their rows carry in the result tables, and the note that says what the mark means.

Such results are never paired with runs of this code (reports.paired pairs within one code), so a variant whose
stale runs have no counterpart run by the same code gets no paired test there.
"""

from __future__ import annotations

import dataclasses

import pandas as pd

from reports.display import DisplayTable

STALE_MARK = "†"


def stale_variants(results: pd.DataFrame, dataset: str) -> list[str]:
    """Variants of `dataset` with at least one stale run, in table order."""
    rows = results[(results["dataset"] == dataset) & results["stale"]]
    return list(dict.fromkeys(rows["variant"]))


def stale_note(results: pd.DataFrame, dataset: str) -> str:
    """What the mark means for `dataset` (empty when nothing there is stale): how many runs, from which code."""
    rows = results[(results["dataset"] == dataset) & results["stale"]]
    if rows.empty:
        return ""
    runs = rows.drop_duplicates(["variant", "seed", "regdb_trial"])
    sources = ", ".join(sorted({code or "unrecorded" for code in runs["code"]}))
    return (
        f"{STALE_MARK} {len(runs)} run(s) kept from other code (--keep-stale; method source {sources}): they are "
        "not what this code computes, and they are never paired with runs of this code."
    )


def mark_stale(table: DisplayTable, variants: list[str]) -> DisplayTable:
    """`table` with the variant cell (first column) of each of `variants` carrying the stale mark."""
    if not variants:
        return table
    rows = [
        [dataclasses.replace(row[0], text=f"{row[0].text} {STALE_MARK}"), *row[1:]] if row[0].text in variants else row
        for row in table.rows
    ]
    return dataclasses.replace(table, rows=rows)
