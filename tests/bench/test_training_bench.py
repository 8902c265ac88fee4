"""Group `training`: images per second and achieved GFLOP/s of one training step (forward, backward, SGD step),
beside the machine's float32 GEMM rate measured in the same run.

- mobilenet_v2 at 128x64, the quick profile's step: 8 pseudo-identities x 8 instances per modality, the 64
  visible images in two views, so 128 + 64 = 192 images per step, through the trainable last blocks and head
  from stored outputs of the frozen ImageNet stems.
- mobilenet_v2_full at 128x64: the same batch through the whole network from pixels, fine-tuned end to end.
- agw_resnet50 at 288x144, the paper's stage-C batch: 8 identities x 4 instances per modality, so
  64 + 32 = 96 images per step. On the CPU only with --bench-scale=sysu (a step takes tens of seconds).
CUDA variants use bf16 autocast and channels-last. images_per_s = images per step / median step time;
achieved_gflops = counted flops per step / median step time; share_of_gemm = achieved_gflops / gemm_gflops,
the number to raise.
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


def _parameters(state: training.TrainingState) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Copies of the trainable parameters (with the classifier's) and of the frozen ones."""
    named = [*state.model.named_parameters(), *(("classifier." + n, p) for n, p in state.classifier.named_parameters())]
    trainable = {name: p.detach().clone() for name, p in named if p.requires_grad}
    frozen = {name: p.detach().clone() for name, p in named if not p.requires_grad}
    return trainable, frozen


def test_training_step_moves_what_trains_and_nothing_frozen(
    benchmark: BenchmarkFixture,
    training_case: TrainingCase,
    training_device: str,
    rounds_for: RoundsFor,
    measure_memory: bool,
    gemm_gflops_of: Callable[[str], float],
) -> None:
    case = training_case
    (state,) = training.build(case.name, training_device)
    trainable, frozen = _parameters(state)
    loss = benchmark.pedantic(training.step, args=(state,), **rounds_for(case.scale))

    assert torch.isfinite(torch.tensor(loss)), f"loss {loss}"
    trainable_after, frozen_after = _parameters(state)
    unchanged = [name for name in trainable if torch.equal(trainable[name], trainable_after[name])]
    assert not unchanged, f"a training step left these trainable weights unchanged: {unchanged[:5]}"
    moved = [name for name in frozen if not torch.equal(frozen[name], frozen_after[name])]
    assert not moved, f"a training step moved these frozen weights: {moved[:5]}"
    flops = training.step_flops(case.name, training_device)
    gemm = gemm_gflops_of(training_device)
    benchmark.extra_info.update(
        base_info(case.images, state.model.feature_dim, training_device, threads_of="torch"),
        backbone=case.backbone,
        height=case.height,
        width=case.width,
        images_per_step=case.images,
        batch=f"{case.identities}x{case.instances} per modality, visible in 2 views",
        inputs="stored stem outputs" if case.stored_stems else "pixels",
        precision="bf16 autocast, channels-last" if training_device == "cuda" else "float32",
        gflop_per_step=flops / 1e9,
        gemm_gflops=gemm,
    )
    median = median_seconds(benchmark)
    if median is not None:
        achieved = flops / median / 1e9
        benchmark.extra_info.update(
            images_per_s=case.images / median, achieved_gflops=achieved, share_of_gemm=achieved / gemm
        )
    if measure_memory:
        peak = step_peak(training.step, case.name, training_device, setup=training.build)
        benchmark.extra_info.update(peak.as_extra_info())
