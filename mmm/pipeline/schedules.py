"""Learning-rate schedules of the stages, as per-epoch multipliers for torch's LambdaLR."""

from __future__ import annotations

from typing import Callable, Sequence


def step_decay(step_size: int, gamma: float = 0.1) -> Callable[[int], float]:
    """StepLR: x gamma every step_size epochs (stages A and B)."""
    return lambda epoch: gamma ** (epoch // max(step_size, 1))


def warmup_multistep(warmup_epochs: int, milestones: Sequence[int], gamma: float = 0.1) -> Callable[[int], float]:
    """Linear warm-up from 1/warmup to 1 over warmup_epochs, then x gamma at each milestone (stage C)."""

    def factor(epoch: int) -> float:
        warm = min(1.0, (epoch + 1) / warmup_epochs) if warmup_epochs > 0 else 1.0
        return warm * gamma ** sum(epoch >= m for m in milestones)

    return factor
