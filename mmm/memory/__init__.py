"""Cluster memories: the momentum-updated cluster memory with ClusterNCE, and CMC's hybrid memory."""
from mmm.memory.cluster_memory import ClusterMemory, cluster_centroids
from mmm.memory.hybrid_memory import HybridMemory, hybrid_centroids

__all__ = ["ClusterMemory", "HybridMemory", "cluster_centroids", "hybrid_centroids"]
