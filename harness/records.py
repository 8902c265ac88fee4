"""What a run records on the Optuna trial that claimed its cell (user attributes, all JSON) and how it is read back.

These keys describe the run (cell, params, config, metrics, epochs, stage times); the queue's own bookkeeping of
claims and leases (keys prefixed "harness.") is harness.queue's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from optuna.trial import FrozenTrial

from harness.queue import code_of
from mmm.code_identity import CodeIdentity
from mmm.pipeline.result import RunResult

CELL = "cell"
PARAMS = "params"
CONFIG = "config"
TASK = "task"
METRICS = "metrics"
TRIAL_METRICS = "trial_metrics"
EPOCHS = "epochs"
STAGE_SECONDS = "stage_seconds"
STAGES_CACHED = "stages_cached"
MODEL_DIGEST = "model_digest"
WEIGHTS = "weights"
SECONDS = "seconds"
FEATURES = "features"  # the run's feature file (harness.feature_files): path and sha256, or why there is none


def jsonable(value: Any) -> Any:
    """`value` with numpy scalars and arrays, tuples and paths turned into plain JSON types."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def result_attrs(result: RunResult, seconds: float) -> dict[str, Any]:
    """The user attributes recording a finished run."""
    return {
        METRICS: jsonable(result.metrics),
        TRIAL_METRICS: jsonable(result.trial_metrics),
        EPOCHS: jsonable(result.epochs),
        STAGE_SECONDS: jsonable(result.stage_seconds),
        STAGES_CACHED: sorted(result.cached_stages),
        MODEL_DIGEST: result.model_digest,
        WEIGHTS: jsonable(result.weights),
        SECONDS: seconds,
    }


def primary_value(metrics: dict[str, dict[str, float]], protocol: str, metric: str) -> float:
    """The value Optuna sees: one metric of one protocol; NaN when the run did not report it."""
    value = metrics.get(protocol, {}).get(metric)
    return float(value) if value is not None else math.nan


@dataclass(frozen=True)
class StoredRun:
    """A finished trial read back: what the run recorded."""

    trial: FrozenTrial

    @property
    def params(self) -> dict[str, Any]:
        return self.trial.user_attrs.get(PARAMS, {})

    @property
    def metrics(self) -> dict[str, dict[str, float]]:
        return self.trial.user_attrs.get(METRICS, {})

    @property
    def trial_metrics(self) -> dict[str, dict[str, dict[str, float]]]:
        """{protocol: {evaluation trial (as text, JSON keys): {metric: value}}}; empty for older runs."""
        return self.trial.user_attrs.get(TRIAL_METRICS, {})

    @property
    def epochs(self) -> list[dict[str, Any]]:
        return self.trial.user_attrs.get(EPOCHS, [])

    @property
    def stage_seconds(self) -> dict[str, float]:
        return self.trial.user_attrs.get(STAGE_SECONDS, {})

    @property
    def features(self) -> dict[str, Any]:
        """The feature record (harness.feature_files); empty for runs that kept none."""
        return self.trial.user_attrs.get(FEATURES, {})

    @property
    def stages_cached(self) -> set[str]:
        return set(self.trial.user_attrs.get(STAGES_CACHED, []))

    @property
    def code(self) -> CodeIdentity | None:
        """The code that ran it (recorded with its claim); None for a run that recorded none."""
        return code_of(self.trial)
