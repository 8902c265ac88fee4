"""Group `training`: images per second of one training step (forward, backward, SGD step).

- resnet18_small at 64x32, the quick profile's stage-A/B batch: 8 pseudo-identities x 8 instances per
  modality, the 64 visible images in two views, so 128 + 64 = 192 images per step.
- agw_resnet50 at 288x144, the paper's stage-C batch: 8 identities x 4 instances per modality, so
  64 + 32 = 96 images per step. On the CPU only with --bench-scale=sysu (a step takes tens of seconds).
CUDA variants use bf16 autocast and channels-last; images_per_s = images per step / median step time.
"""
from __future__ import annotations

from typing import Callable

import pytest
import torch
from pytest_benchmark.fixture import BenchmarkFixture

from tests.bench import training
from tests.bench.cases import TrainingCase
from tests.bench.memory import step_peak
from tests.bench.recording import base_info, median_seconds

pytestmark = pytest.mark.benchmark(group="training")

RoundsFor = Callable[[str], dict[str, int]]


def _weights(state: training.TrainingState) -> dict[str, torch.Tensor]:
    """Copies of the weights a step must move: both stems, a shared stage and the classifier."""
    model = state.model
    return {
        "visible stem": model.visible_stem.conv1.weight.detach().clone(),
        "infrared stem": model.infrared_stem.conv1.weight.detach().clone(),
        "layer4": model.layer4[-1].conv1.weight.detach().clone(),
        "classifier": state.classifier.weight.detach().clone(),
    }


def test_training_step_moves_every_part_of_the_model(
    benchmark: BenchmarkFixture, training_case: TrainingCase, training_device: str, rounds_for: RoundsFor,
    measure_memory: bool,
) -> None:
    case = training_case
    (state,) = training.build(case.name, training_device)
    before = _weights(state)
    loss = benchmark.pedantic(training.step, args=(state,), **rounds_for(case.scale))

    assert torch.isfinite(torch.tensor(loss)), f"loss {loss}"
    after = _weights(state)
    unchanged = [name for name in before if torch.equal(before[name], after[name])]
    assert not unchanged, f"a training step left these weights unchanged: {unchanged}"
    benchmark.extra_info.update(
        base_info(case.images, state.model.feature_dim, training_device, threads_of="torch"),
        backbone=case.backbone, height=case.height, width=case.width, images_per_step=case.images,
        batch=f"{case.identities}x{case.instances} per modality, visible in 2 views",
        precision="bf16 autocast, channels-last" if training_device == "cuda" else "float32",
    )
    median = median_seconds(benchmark)
    if median is not None:
        benchmark.extra_info["images_per_s"] = case.images / median
    if measure_memory:
        peak = step_peak(training.step, case.name, training_device, setup=training.build)
        benchmark.extra_info.update(peak.as_extra_info())
