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
from harness.data_source import FOLDERS
from mmm.data.errors import DatasetError
from mmm.data.tree import TreeFingerprint, TreeListing, walk_tree


@dataclass
class TreeVerdict:
    name: str  # "sysu" or "regdb"
    root: Path
    known: KnownCounts
    rows: list[CountRow]
    fingerprint: TreeFingerprint | None  # None when the tree cannot be walked (a link loop, a dangling link)
    problems: list[str] = field(default_factory=list)  # parts the walk or the readers rejected, one line each

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
            **(self.fingerprint.as_dict() if self.fingerprint is not None else {"fingerprint": None}),
            "expected_from": self.known.source,
            "mismatches": self.mismatches(),
        }


def judge_tree(
    name: str,
    root: Path,
    known: KnownCounts,
    dataset: Dataset | None,
    problems: list[str],
    listing: TreeListing | None,
) -> TreeVerdict:
    """The verdict on a tree from what was read of it; `listing` is its walk (None when it cannot be walked)."""
    found = dataset_counts(dataset) if dataset is not None else {}
    rows = compare_counts(FOLDERS[name], known.counts, found)
    fingerprint = listing.fingerprint() if listing is not None else None
    return TreeVerdict(name, root, known, rows, fingerprint, list(problems))


def walk_or_problem(root: Path) -> tuple[TreeListing | None, list[str]]:
    """The tree's walk, or None and the one line that says why it cannot be walked (the same line a run and the
    readers give for it)."""
    try:
        return walk_tree(root), []
    except DatasetError as error:
        return None, [str(error)]


def study_verdict(name: str, root: Path, read: Callable[[], Dataset]) -> dict[str, Any]:
    """The provenance record of a dataset a study uses: its counts against the known ones and its fingerprint.
    A tree the reader rejects is recorded with the reader's message, not raised: the runs are done by then."""
    known, problems = known_counts_or_problem(name, root)
    listing, unwalkable = walk_or_problem(root)
    dataset: Dataset | None = None
    if listing is None:
        problems += unwalkable
    else:
        try:
            dataset = read()
        except DatasetError as error:
            problems.append(f"not readable: {error}")
    return judge_tree(name, root, known, dataset, problems, listing).as_provenance()
