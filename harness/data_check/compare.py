"""Expected against found: one row per count, its status, the mismatch lines, and the text table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Sequence

from harness.data_check.counts import CountKey
from harness.data_check.expected import Expected

OK, MISMATCH, NOT_READ, NOT_CHECKED = "ok", "MISMATCH", "not read", "not checked"
_TRIAL = re.compile(r"^trial (\d+)$")


@dataclass(frozen=True)
class CountRow:
    dataset: str  # display name, e.g. "SYSU-MM01"
    scope: str
    quantity: str
    expected: Expected | None  # None: no known fact to check against
    found: int | None  # None: the part holding it could not be read

    @property
    def status(self) -> str:
        if self.found is None:
            return NOT_READ
        if self.expected is None:
            return NOT_CHECKED
        return OK if self.expected.holds(self.found) else MISMATCH

    def mismatch_line(self, scope: str | None = None) -> str:
        """What differs; `scope` replaces the row's own when several trials share the line."""
        where = scope or self.scope
        return f"{self.dataset}: {where}, {self.quantity}: expected {self.expected}, found {self.found:,}"


def compare_counts(
    dataset: str, expected: Mapping[CountKey, Expected], found: Mapping[CountKey, int]
) -> list[CountRow]:
    """Rows in the order counts were found, then the expected counts nothing was found for."""
    keys = list(found) + [key for key in expected if key not in found]
    return [CountRow(dataset, *key, expected=expected.get(key), found=found.get(key)) for key in keys]


def mismatch_lines(rows: Sequence[CountRow]) -> list[str]:
    """One line per count that differs; trials that differ in the same way share one line."""
    return [row.mismatch_line(scope) for row, scope in _merge_trials(rows) if row.status == MISMATCH]


def format_table(rows: Sequence[CountRow]) -> str:
    """A fixed-width table of one dataset's rows; per-trial rows that agree in all but the trial are shown once."""
    lines = [
        (
            scope,
            row.quantity,
            "" if row.expected is None else str(row.expected),
            "" if row.found is None else f"{row.found:,}",
            row.status,
        )
        for row, scope in _merge_trials(rows)
    ]
    header = ("scope", "count", "expected", "found", "status")
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    right = {2, 3}
    text = [
        "  ".join(
            cell.rjust(width) if i in right else cell.ljust(width) for i, (cell, width) in enumerate(zip(line, widths))
        ).rstrip()
        for line in [header, *lines]
    ]
    text.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(text) + "\n"


def _merge_trials(rows: Sequence[CountRow]) -> list[tuple[CountRow, str]]:
    """(first row, scope text) per group of rows that differ only in their trial number."""
    groups: dict[tuple[object, ...], tuple[CountRow, list[int]]] = {}
    merged: list[tuple[object, ...]] = []
    for row in rows:
        trial = _TRIAL.match(row.scope)
        if trial is None:
            key: tuple[object, ...] = (id(row),)
            groups[key] = (row, [])
        else:
            key = (row.dataset, row.quantity, str(row.expected), row.found, row.status)
            if key in groups:
                groups[key][1].append(int(trial.group(1)))
                continue
            groups[key] = (row, [int(trial.group(1))])
        merged.append(key)
    return [
        (groups[key][0], _trials_text(groups[key][1]) if groups[key][1] else groups[key][0].scope) for key in merged
    ]


def _trials_text(trials: list[int]) -> str:
    """ "trial 3", "trials 1–10" or "trials 1–2, 4–10": runs of consecutive trials as ranges."""
    if len(trials) == 1:
        return f"trial {trials[0]}"
    runs: list[list[int]] = []
    for trial in sorted(trials):
        if runs and trial == runs[-1][-1] + 1:
            runs[-1].append(trial)
        else:
            runs.append([trial])
    return "trials " + ", ".join(str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs)
