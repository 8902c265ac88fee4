"""MMM: Multi-Memory Matching for unsupervised visible-infrared person re-identification (ECCV 2024).

The method lives here (data, models, features, clustering, memory, matching, alignment, pipeline, evaluation);
ground-truth diagnostics live in mmm.diagnostics and are called only by the harness.
"""
