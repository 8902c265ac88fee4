"""Group `training`: images per second and achieved GFLOP/s of the pipeline's own training steps
(tests/bench/training.py: A/B steps with their memory updates and stage-C steps with every SCA term, each from its
batch's preparation to its optimiser step), in fp32 and bf16, beside the machine's GEMM rate in the same
precision, measured in the same run.

- mobilenet_v2 at 128x64, the quick profile's A/B step: 8 pseudo-identities x 8 instances per modality, the 64
  visible images in two views, so 192 images per step, through the trainable last blocks and head from stored
  outputs of the frozen ImageNet stems.
- mobilenet_v2_full at 128x64: the same batch through the whole network from pixels, fine-tuned end to end.
- agw_resnet50 at 288x144: the paper's stage-C step (8 x 4, 96 images; on the CPU only with --bench-scale=sysu),
  and the A/B steps of the paper (12 x 16, 576 images) and release (8 x 16, 384 images) recipes, on CUDA only.
images_per_s = images per step / median step time; achieved_gflops = counted flops per step / median step time;
share_of_gemm = achieved_gflops / gemm_gflops, the number to raise.

group `batches`: the host's part of a 576-image paper batch at 288x144 (gathering its uint8 rows, drawing its
augmentation, and on CUDA the pinned copy), and the augmentation itself on the device.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest
import torch
from pytest_benchmark.fixture import BenchmarkFixture

from mmm.data.transforms import apply_views
from mmm.models.numerics import ForwardNumerics
from mmm.pipeline.network_inputs import PixelInputs
from mmm.pipeline.training_images import TrainingImages
from tests.bench import training
from tests.bench.cases import PAPER_BATCH, TrainingCase
from tests.bench.devices import synchronize
from tests.bench.memory import step_peak
from tests.bench.recording import base_info, median_seconds

RoundsFor = Callable[[str], dict[str, int]]
MB = 1e6


def _parameters(state: training.TrainingState) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """Copies of the trainable parameters (with a stage-C classifier's) and of the frozen ones."""
    named = list(state.model.named_parameters())
    if state.classifier is not None:
        named += [("classifier." + n, p) for n, p in state.classifier.named_parameters()]
    trainable = {name: p.detach().clone() for name, p in named if p.requires_grad}
    frozen = {name: p.detach().clone() for name, p in named if not p.requires_grad}
    return trainable, frozen


@pytest.mark.benchmark(group="training")
def test_training_step_moves_what_trains_and_nothing_frozen(
    benchmark: BenchmarkFixture,
    training_case: TrainingCase,
    training_device: str,
    precision: str,
    rounds_for: RoundsFor,
    measure_memory: bool,
    gemm_gflops_of: Callable[[str, str], float],
) -> None:
    case = training_case
    (state,) = training.build(case.name, training_device, precision)
    trainable, frozen = _parameters(state)
    memory_before = state.clusters.memory_v.features.clone() if state.clusters is not None else None
    loss = benchmark.pedantic(training.step, args=(state,), **rounds_for(case.scale))

    assert np.isfinite(loss), f"loss {loss}"
    trainable_after, frozen_after = _parameters(state)
    unchanged = [name for name in trainable if torch.equal(trainable[name], trainable_after[name])]
    assert not unchanged, f"a training step left these trainable weights unchanged: {unchanged[:5]}"
    moved = [name for name in frozen if not torch.equal(frozen[name], frozen_after[name])]
    assert not moved, f"a training step moved these frozen weights: {moved[:5]}"
    if memory_before is not None:
        assert state.clusters is not None and not torch.equal(memory_before, state.clusters.memory_v.features)
    flops = training.step_flops(case.name, training_device, precision)
    gemm = gemm_gflops_of(training_device, precision)
    benchmark.extra_info.update(
        base_info(case.images, state.model.feature_dim, training_device, threads_of="torch"),
        backbone=case.backbone,
        height=case.height,
        width=case.width,
        stage=case.stage,
        images_per_step=case.images,
        batch=f"{case.identities}x{case.instances} per modality, visible in 2 views",
        inputs="stored stem outputs" if case.stored_stems else "pixels",
        precision=precision,
        layout=str(ForwardNumerics(torch.device(training_device), precision).memory_format).removeprefix("torch."),
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
        peak = step_peak(training.step, case.name, training_device, precision, setup=training.build)
        benchmark.extra_info.update(peak.as_extra_info())


def _paper_batch_inputs(device: str) -> PixelInputs:
    """Pixel inputs over twice a paper batch's rows per modality, as the A/B stage holds them."""
    generator = torch.Generator().manual_seed(0)
    rows = 2 * PAPER_BATCH.per_modality
    shape = (rows, PAPER_BATCH.height, PAPER_BATCH.width, 3)
    images = TrainingImages(
        torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator).numpy(),
        torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator).numpy(),
        np.zeros(rows, np.int64),
        np.ones(rows, np.int64),
    )
    return PixelInputs(images, training.CONFIG.pad, generator, ForwardNumerics(torch.device(device)))


def _paper_indices(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows = 2 * PAPER_BATCH.per_modality
    return rng.choice(rows, PAPER_BATCH.per_modality), rng.choice(rows, PAPER_BATCH.per_modality)


@pytest.mark.benchmark(group="batches")
def test_preparing_a_paper_batch_gathers_its_rows_and_draws_its_augmentation(
    benchmark: BenchmarkFixture, bench_device: str, rounds_for: RoundsFor
) -> None:
    inputs = _paper_batch_inputs(bench_device)
    seeds = iter(range(1_000_000))

    def prepare() -> list[torch.Tensor]:
        tensors = inputs.loader.take(inputs.prepare(*_paper_indices(next(seeds))).pending)
        synchronize(bench_device)
        return tensors

    visible, infrared, plan = benchmark.pedantic(prepare, **rounds_for("regdb"))
    assert visible.shape == infrared.shape == (PAPER_BATCH.per_modality, PAPER_BATCH.height, PAPER_BATCH.width, 3)
    assert plan.shape[1] == PAPER_BATCH.images
    moved = sum(t.numel() * t.element_size() for t in (visible, infrared, plan))
    benchmark.extra_info.update(
        base_info(PAPER_BATCH.images, 0, bench_device, threads_of="torch"),
        images_per_step=PAPER_BATCH.images,
        batch="12x16 per modality at 288x144, visible in 2 views (the views are made on the device)",
        mb_per_batch=moved / MB,
        work="gather uint8 rows, draw the augmentation" + (", pinned copy" if bench_device == "cuda" else ""),
    )
    median = median_seconds(benchmark)
    if median is not None:
        benchmark.extra_info["images_per_s"] = PAPER_BATCH.images / median


@pytest.mark.benchmark(group="batches")
def test_augmenting_a_paper_batch_on_its_device(
    benchmark: BenchmarkFixture, bench_device: str, rounds_for: RoundsFor
) -> None:
    inputs = _paper_batch_inputs(bench_device)
    visible, infrared, plan = inputs.loader.take(inputs.prepare(*_paper_indices(0)).pending)
    pixels = torch.cat([visible, visible, infrared]).permute(0, 3, 1, 2)

    def augment() -> torch.Tensor:
        views = apply_views(pixels, plan, training.CONFIG.pad)
        synchronize(bench_device)
        return views

    views = benchmark.pedantic(augment, **rounds_for("regdb"))
    assert views.shape == (PAPER_BATCH.images, 3, PAPER_BATCH.height, PAPER_BATCH.width)
    assert views.dtype == torch.float32
    benchmark.extra_info.update(
        base_info(PAPER_BATCH.images, 0, bench_device, threads_of="torch"), images_per_step=PAPER_BATCH.images
    )
    median = median_seconds(benchmark)
    if median is not None:
        benchmark.extra_info["images_per_s"] = PAPER_BATCH.images / median
