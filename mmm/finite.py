"""Non-finite values stopped where they arise: features before clustering and evaluation, and training losses
(weight files are checked when they are read, mmm.models.weights).

A network that diverged, or started from a broken weight file, gives NaN or inf features. Clustered, they crash
faiss natively; evaluated, they give metrics that look like numbers. Each check raises NonFiniteError with one
line saying where, so the run fails (its cell is recorded as failed, nothing from it is stored) instead.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import numpy as np
import torch


class NonFiniteError(ValueError):
    """Features or a loss hold NaN or inf; the message says where (stage, epoch, step, or which features)."""


def require_finite_features(features: np.ndarray | torch.Tensor, what: str) -> None:
    """Raise NonFiniteError unless every entry of the (N, D) `features` is finite; `what` names them."""
    finite = torch.isfinite(features) if isinstance(features, torch.Tensor) else np.isfinite(features)
    if bool(finite.all()):
        return
    bad_rows = int((~finite).reshape(len(finite), -1).any(1).sum()) if len(finite) else 0
    raise NonFiniteError(
        f"{what}: {bad_rows} of {len(finite)} feature rows hold NaN or inf (the network's output is not finite: "
        "diverged training or a broken weight file)"
    )


def require_finite_losses(per_step: Mapping[str, Sequence[float]], stage: str, epoch: int) -> None:
    """Raise NonFiniteError at the first step (over every loss term) whose value is not finite. `per_step` holds
    each term's value at every step of the epoch (read once per epoch, mmm.pipeline.epoch_losses); `epoch` is
    0-based, the message counts epochs and steps from 1 as the logs do."""
    first: tuple[int, str, float] | None = None
    for name, values in per_step.items():
        step = next((index for index, value in enumerate(values) if not math.isfinite(value)), None)
        if step is not None and (first is None or step < first[0]):
            first = (step, name, values[step])
    if first is not None:
        step, name, value = first
        raise NonFiniteError(
            f"stage {stage}, epoch {epoch + 1}, step {step + 1}: loss {name!r} is {value}; training diverged, "
            "so the cell fails and nothing from it is stored"
        )
