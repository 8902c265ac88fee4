"""How a caller (the harness) plugs into a pipeline run without the method importing the caller.

- StageStore: where finished stage outputs are kept and found again, keyed by the hash of everything upstream.
- ProgressEvent / ProgressCallback: reported after every epoch and stage; a callback may raise to stop the run
  (the harness raises optuna.TrialPruned there).
- Diagnose: given pseudo-labels, returns ground-truth diagnostics; the pipeline never sees ground truth itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import numpy as np


class StageStore(Protocol):
    def load(self, stage: str, key: str) -> Any | None:
        """The stored output of `stage` under `key`, or None when absent or unreadable."""

    def save(self, stage: str, key: str, value: Any) -> None:
        """Store a stage output (atomically)."""


@dataclass(frozen=True)
class ProgressEvent:
    stage: str  # a mmm.choices.Stage: "dcl", "cmc", "mmlm", "sca", "eval", ...
    epoch: int  # 0-based epoch within the stage (0 for one-shot stages)
    epochs: int  # epochs in the stage
    values: dict[str, float] = field(default_factory=dict)  # losses, cluster counts, intermediate metrics


ProgressCallback = Callable[[ProgressEvent], None]

# (stage, epoch, pseudo-labels by name: "visible", "infrared", "pooled", "matched_visible", ...) -> diagnostics
Diagnose = Callable[[str, int, dict[str, np.ndarray]], dict[str, float]]
