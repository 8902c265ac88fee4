"""Results of other code kept with --keep-stale: the paired test never pairs a run with a run of other code, the
result tables mark the variants resting on them, and the note says how many runs and which code."""

from __future__ import annotations

import pandas as pd

from reports.display import Cell, DisplayTable
from reports.paired import NO_PAIRS, paired_deltas
from reports.stale import STALE_MARK, mark_stale, stale_note, stale_variants


def _results(codes: dict[tuple[str, int], str], stale: set[tuple[str, int]]) -> pd.DataFrame:
    """SYSU all-search mAP of variants ref and other at seeds 0-2, each run with the code `codes` names."""
    values = {"ref": [40.0, 41.0, 42.0], "other": [41.0, 43.0, 46.0]}
    return pd.DataFrame(
        [
            {
                "variant": variant,
                "dataset": "sysu",
                "protocol": "all",
                "metric": "mAP",
                "seed": seed,
                "regdb_trial": float("nan"),
                "value": value,
                "code": codes.get((variant, seed), "new"),
                "stale": (variant, seed) in stale,
            }
            for variant, series in values.items()
            for seed, value in enumerate(series)
        ]
    )


def test_runs_of_different_code_never_pair() -> None:
    same = paired_deltas(_results({}, set()), "ref").iloc[0]
    assert same["pairs"] == 3
    # Seed 0 of the reference is a result of older code kept on purpose: seed 0 no longer pairs.
    kept = paired_deltas(_results({("ref", 0): "old"}, {("ref", 0)}), "ref").iloc[0]
    assert kept["pairs"] == 2 and kept["mean_delta"] == (2.0 + 4.0) / 2
    # Every run of one variant by other code: nothing pairs at all.
    apart = {("other", seed): "old" for seed in range(3)}
    assert paired_deltas(_results(apart, set(apart)), "ref").iloc[0]["verdict"] == NO_PAIRS
    # Both variants' seed 0 by the same older code pair with each other, not with the new runs.
    both = {("ref", 0): "old", ("other", 0): "old"}
    assert paired_deltas(_results(both, set(both)), "ref").iloc[0]["pairs"] == 3


def test_the_tables_mark_variants_resting_on_stale_runs_and_say_why() -> None:
    results = _results({("other", 1): "0123456789abcdef"}, {("other", 1)})
    assert stale_variants(results, "sysu") == ["other"] and stale_variants(results, "regdb") == []
    table = DisplayTable(["variant", "mAP"], [[Cell("ref"), Cell("40.00")], [Cell("other"), Cell("43.33")]])
    marked = mark_stale(table, stale_variants(results, "sysu"))
    assert [row[0].text for row in marked.rows] == ["ref", f"other {STALE_MARK}"]
    assert marked.rows[1][1] == table.rows[1][1]
    note = stale_note(results, "sysu")
    assert note.startswith(f"{STALE_MARK} 1 run(s) kept from other code") and "0123456789abcdef" in note
    assert stale_note(_results({}, set()), "sysu") == ""
