"""The data check's verdict on one tree: counts against the known ones, read problems and the fingerprint.

The command adds decoding and caches on top; a study run records this part in its provenance, so its report
can warn when the tree it read is not the known dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from harness.data_check.compare import CountRow, compare_counts, mismatch_lines
from harness.data_check.counts import Dataset, dataset_counts
from harness.data_check.expected import KnownCounts, known_counts_or_problem
from harness.data_check.fingerprint import TreeFingerprint, fingerprint_tree
from harness.data_source import FOLDERS
from mmm.data.errors import DatasetError


@dataclass
class TreeVerdict:
    name: str  # "sysu" or "regdb"
    root: Path
    known: KnownCounts
    rows: list[CountRow]
    fingerprint: TreeFingerprint
    problems: list[str] = field(default_factory=list)  # parts the readers rejected, one line each

    @property
    def label(self) -> str:
        """The dataset's display name, which is also its folder name (SYSU-MM01, RegDB)."""
        return FOLDERS[self.name]

    def mismatches(self) -> list[str]:
        """One line per read problem and per count that differs from the known one."""
        return [f"{self.label}: {problem}" for problem in self.problems] + mismatch_lines(self.rows)

    def as_provenance(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            **self.fingerprint.as_dict(),
            "expected_from": self.known.source,
            "mismatches": self.mismatches(),
        }


def judge_tree(name: str, root: Path, known: KnownCounts, dataset: Dataset | None, problems: list[str]) -> TreeVerdict:
    found = dataset_counts(dataset) if dataset is not None else {}
    rows = compare_counts(FOLDERS[name], known.counts, found)
    return TreeVerdict(name, root, known, rows, fingerprint_tree(root), list(problems))


def study_verdict(name: str, root: Path, read: Callable[[], Dataset]) -> dict[str, Any]:
    """The provenance record of a dataset a study uses: its counts against the known ones and its fingerprint.
    A tree the reader rejects is recorded with the reader's message, not raised: the runs are done by then."""
    known, problems = known_counts_or_problem(name, root)
    try:
        dataset: Dataset | None = read()
    except DatasetError as error:
        dataset = None
        problems.append(f"not readable: {error}")
    return judge_tree(name, root, known, dataset, problems).as_provenance()
