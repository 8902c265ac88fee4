"""What one pipeline run returns: test metrics per protocol, per-epoch diagnostics, per-stage wall time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the evaluation pulls in torch, which the command's --list and --help never import
    from mmm.evaluation.feature_space import FeatureSample


@dataclass
class RunResult:
    """metrics[protocol][metric] as percentages (protocol: 'all'/'indoor' for SYSU, 'v2i'/'i2v' for RegDB;
    metric one of METRICS), each the mean over the protocol's evaluation trials. epochs: one dict per training
    epoch (stage, epoch, loss, cluster counts, and the ground-truth diagnostics when the caller asked for them).
    stage_seconds: wall time per stage name (the time to load it when the stage came from the stage store, named
    in cached_stages). trial_metrics[protocol][trial]: the values behind each mean (SYSU: one per gallery draw;
    RegDB: the one trial the model was trained for). features: the final network's features of the task's fixed
    test subset (mmm.evaluation.feature_space), None when the task keeps none."""

    metrics: dict[str, dict[str, float]]
    epochs: list[dict[str, Any]] = field(default_factory=list)
    stage_seconds: dict[str, float] = field(default_factory=dict)
    cached_stages: list[str] = field(default_factory=list)
    model_digest: str = ""  # sha256 of the final weights: same seed and machine must give the same digest
    weights: dict[str, Any] | None = None  # the starting weight file (name, path, sha256); None for a random start
    trial_metrics: dict[str, dict[int, dict[str, float]]] = field(default_factory=dict)
    features: FeatureSample | None = None
