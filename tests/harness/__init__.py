"""Tests of the study harness: specs, CLI, claims and leases, resume, workers, stage cache, results."""
