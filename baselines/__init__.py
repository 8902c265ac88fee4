"""Single-memory baselines built from mmm's parts (DCL, PGM-style centroid matching)."""
