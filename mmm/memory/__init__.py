"""Cluster memories: the momentum-updated cluster memory with ClusterNCE, and CMC's hybrid memory."""
