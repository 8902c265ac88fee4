"""MMLM: per-cluster sub-centres, Chamfer costs, visible-to-infrared cluster matching, label transfer.

Exports are imported on first use (mmm.lazy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmm.lazy import lazy_exports

if TYPE_CHECKING:
    from mmm.matching.assignment import match_clusters, transfer_labels
    from mmm.matching.cost import chamfer_cost
    from mmm.matching.mmlm import MatchResult, multi_memory_match
    from mmm.matching.subcentres import subcentres

__all__ = [
    "MatchResult",
    "chamfer_cost",
    "match_clusters",
    "multi_memory_match",
    "subcentres",
    "transfer_labels",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    __all__,
    (
        "mmm.matching.subcentres",
        "mmm.matching.assignment",
        "mmm.matching.cost",
        "mmm.matching.mmlm",
    ),
)
