"""Ground-truth diagnostics (ARI, matching accuracy, view separation). Called by the harness only."""
