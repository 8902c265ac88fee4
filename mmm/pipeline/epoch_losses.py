"""A stage's per-step loss values, kept on the device and read back once per epoch.

Reading a loss (`float(loss)`) makes the host wait for the device to finish the step; doing it every step keeps a
GPU's queue empty between steps. The stages add each step's terms here and read them all at the end of the epoch,
one transfer for the whole epoch. Every step's value is kept, so a non-finite loss is still found at its step.
"""

from __future__ import annotations

import torch


class EpochLosses:
    """Loss terms by name, one detached 0-d tensor per step."""

    def __init__(self) -> None:
        self._terms: dict[str, list[torch.Tensor]] = {}

    def add(self, terms: dict[str, torch.Tensor]) -> None:
        """One step's terms (their values only; the graph is not kept)."""
        for name, value in terms.items():
            self._terms.setdefault(name, []).append(value.detach().float())

    def read(self) -> dict[str, list[float]]:
        """Every step's value of every term, read from the device in one transfer."""
        if not self._terms:
            return {}
        names = list(self._terms)
        counts = [len(self._terms[name]) for name in names]
        flat = torch.stack([value for name in names for value in self._terms[name]]).tolist()
        values: dict[str, list[float]] = {}
        start = 0
        for name, count in zip(names, counts):
            values[name] = flat[start : start + count]
            start += count
        return values


def epoch_means(values: dict[str, list[float]], steps: int) -> dict[str, float]:
    """Each term's mean over the epoch's `steps` steps, summed step by step as value / steps."""
    means: dict[str, float] = {}
    for name, per_step in values.items():
        total = 0.0
        for value in per_step:
            total += value / steps
        means[name] = total
    return means
