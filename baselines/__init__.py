"""Single-memory baselines built from mmm's parts (DCL, centroid Hungarian: PGM-like, not PGM)."""
