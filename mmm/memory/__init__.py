"""Cluster memories: the momentum-updated cluster memory with ClusterNCE, and CMC's hybrid memory.

MMLM's multiple memories per cluster (n k-means sub-centres) and their matching live in mmm.matching:
subcentres builds them, cost compares them, mmlm.multi_memory_match runs the whole step.

Exports are imported on first use (mmm.lazy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmm.lazy import lazy_exports

if TYPE_CHECKING:
    from mmm.memory.cluster_memory import ClusterMemory, cluster_centroids
    from mmm.memory.hybrid_memory import HybridMemory, hybrid_centroids

__all__ = [
    "ClusterMemory",
    "HybridMemory",
    "cluster_centroids",
    "hybrid_centroids",
]

__getattr__, __dir__ = lazy_exports(__name__, __all__, ("mmm.memory.cluster_memory", "mmm.memory.hybrid_memory"))
