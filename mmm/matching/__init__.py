"""MMLM: per-cluster sub-centres, Chamfer costs, visible-to-infrared cluster matching, label transfer."""
from mmm.matching.assignment import match_clusters, transfer_labels
from mmm.matching.cost import chamfer_cost
from mmm.matching.mmlm import MatchResult, multi_memory_match
from mmm.matching.subcentres import subcentres

__all__ = ["MatchResult", "chamfer_cost", "match_clusters", "multi_memory_match", "subcentres", "transfer_labels"]
