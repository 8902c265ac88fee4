"""A stage's loss values kept on the device per step and read once per epoch."""

from __future__ import annotations

import numpy as np
import torch

from mmm.host_to_device import to_device
from mmm.pipeline.epoch_losses import EpochLosses, epoch_means


def test_every_step_value_of_every_term_is_read_back_in_order() -> None:
    losses = EpochLosses()
    for step in range(3):
        losses.add({"ce": torch.tensor(float(step)), "triplet": torch.tensor(10.0 + step, requires_grad=True)})
    assert losses.read() == {"ce": [0.0, 1.0, 2.0], "triplet": [10.0, 11.0, 12.0]}


def test_a_non_finite_step_stays_visible_at_its_step() -> None:
    losses = EpochLosses()
    for value in (1.0, float("nan"), 2.0):
        losses.add({"loss": torch.tensor(value)})
    assert np.isnan(losses.read()["loss"][1])


def test_epoch_means_sum_value_over_steps_step_by_step_as_a_float_loop_does() -> None:
    values = [0.1, 0.7, 0.3333333432674408]
    total = 0.0
    for value in values:
        total += value / 3
    assert epoch_means({"loss": values}, 3) == {"loss": total}
    assert EpochLosses().read() == {}


def test_host_arrays_stay_host_memory_on_the_cpu() -> None:
    array = np.arange(4)
    tensor = to_device(array, torch.device("cpu"))
    array[0] = 7
    assert tensor[0] == 7  # wrapped, not copied
