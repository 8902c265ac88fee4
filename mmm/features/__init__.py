"""Feature extraction for clustering and evaluation (flip average, L2 normalisation)."""
