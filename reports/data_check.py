"""What the data check recorded about the trees a study read (provenance's data_check): each tree's
fingerprint, what its counts were checked against, and the counts that differ. A tree that is not the known
dataset is what the report warns about first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from reports.display import NO_VALUE
from reports.schema import DATASET_LABELS

# Mismatch lines shown per tree at the top of a report; the rest are counted (provenance.json has them all).
SHOWN_MISMATCHES = 8


@dataclass(frozen=True)
class DataTree:
    label: str
    root: str
    fingerprint: str
    files: str
    expected_from: str
    mismatches: list[str]

    @property
    def shown(self) -> list[str]:
        return self.mismatches[:SHOWN_MISMATCHES]

    @property
    def not_shown(self) -> int:
        return max(0, len(self.mismatches) - SHOWN_MISMATCHES)


def data_trees(provenance: Mapping[str, Any]) -> list[DataTree]:
    """One entry per dataset the study read, in the report's dataset order; malformed entries are shown as
    unknown rather than dropped."""
    record = provenance.get("data_check")
    if not isinstance(record, Mapping):
        return []
    trees = []
    for name in [n for n in DATASET_LABELS if n in record] + sorted(set(record) - set(DATASET_LABELS)):
        entry = record[name] if isinstance(record[name], Mapping) else {}
        mismatches = entry.get("mismatches")
        trees.append(
            DataTree(
                label=DATASET_LABELS.get(name, str(name)),
                root=str(entry.get("root") or NO_VALUE),
                fingerprint=str(entry.get("fingerprint") or NO_VALUE),
                files=f"{entry['files']:,}" if isinstance(entry.get("files"), int) else NO_VALUE,
                expected_from=str(entry.get("expected_from") or NO_VALUE),
                mismatches=[str(line) for line in mismatches]
                if isinstance(mismatches, list)
                else ["the data check's record of this tree is malformed"],
            )
        )
    return trees
