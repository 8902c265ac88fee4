"""MMLM: per-cluster sub-centres, Chamfer costs, visible-to-infrared cluster matching, label transfer."""
