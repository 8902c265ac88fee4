"""Study runner: CLI, study specs, Optuna storage and cells, stage cache, results table."""
