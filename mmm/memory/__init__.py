"""Cluster memories: the momentum-updated cluster memory with ClusterNCE, and CMC's hybrid memory.

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
