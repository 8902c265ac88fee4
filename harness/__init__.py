"""Study runner: CLI, study specs and cells, the cell queue (harness.queue), stage cache, results table."""
