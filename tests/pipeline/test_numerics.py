"""The run's numerics: bf16 autocast with float32 pooling and losses, the CUDA settings, and a smoke run on the
device the tests are pointed at (MMM_TEST_DEVICE)."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from mmm.data.records import Modality
from mmm.models.factory import create_backbone
from mmm.models.numerics import CUBLAS_WORKSPACE_CONFIG, ForwardNumerics, configure_device
from mmm.pipeline.network import start_network
from mmm.pipeline.network_inputs import PixelInputs, prepare_training_data
from mmm.pipeline.profiles import profile_config
from mmm.pipeline.run import run_pipeline
from mmm.pipeline.tasks import Task
from mmm.pipeline.training_images import TrainingImages
from tests.availability import cuda_only

CPU = torch.device("cpu")
CUDA = torch.device("cuda")
# The smoke profile's stored-stem MobileNetV2, and a small AGW network trained from pixels.
BACKBONES = [{}, {"backbone": "agw_resnet18_small", "pretrained": "none"}]


def _losses(epochs: list[dict]) -> list[float]:
    return [record[name] for record in epochs for name in record if name in ("loss", "ce", "triplet", "intra", "inter")]


@pytest.mark.parametrize("overrides", BACKBONES, ids=["stored-stems", "pixels"])
def test_a_bf16_run_on_the_cpu_trains_every_stage_with_finite_losses(
    overrides: dict, sysu_smoke_task: Task, session_cache: Path
) -> None:
    config = profile_config("smoke", "sysu", precision="bf16", **overrides)
    result = run_pipeline(config, sysu_smoke_task, device=CPU, cache_dir=session_cache)
    assert [e["stage"] for e in result.epochs] == ["dcl", "cmc", "mmlm", "sca", "sca"]
    losses = _losses(result.epochs)
    assert len(losses) >= 6 and all(math.isfinite(value) for value in losses)
    assert all(0.0 <= value <= 100.0 for protocol in result.metrics.values() for value in protocol.values())


def _images(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 64, 32, 3), dtype=np.uint8)


def test_bf16_runs_the_network_in_bfloat16_and_pools_and_normalises_in_float32() -> None:
    model = create_backbone("agw_resnet18_small").train()
    seen: dict[str, torch.dtype] = {}

    def record(module: torch.nn.Module, args: tuple, out: torch.Tensor) -> None:
        seen["trunk"] = out.dtype

    model.layer1[0].register_forward_hook(record)
    images = TrainingImages(_images(6, 0), _images(6, 1), np.zeros(6, np.int64), np.ones(6, np.int64))
    inputs = PixelInputs(images, 4, torch.Generator().manual_seed(0), ForwardNumerics(CPU, "bf16"))
    pooled, neck = inputs.forward_batch(model, np.arange(3), np.arange(3))
    assert seen["trunk"] == torch.bfloat16
    assert pooled.dtype == neck.dtype == torch.float32
    assert inputs.features(model, Modality.VISIBLE).dtype == torch.float32


def test_precision_defaults_to_bf16_on_cuda_and_fp32_elsewhere() -> None:
    assert ForwardNumerics.of(CUDA, None).key == "cuda/bf16"
    assert ForwardNumerics.of(CPU, None).key == "cpu/fp32"
    assert ForwardNumerics.of("cuda", "fp32").key == "cuda/fp32"
    with pytest.raises(ValueError, match="fp32, bf16"):
        ForwardNumerics(CPU, "fp16")  # type: ignore[arg-type]


def test_the_training_step_and_the_eval_pass_run_channels_last_on_the_cpu(
    sysu_smoke_task: Task, session_cache: Path
) -> None:
    config = profile_config("smoke", "sysu")
    images = TrainingImages.load(sysu_smoke_task.train, config.height, config.width, session_cache)
    model, _ = start_network(config, images, session_cache, CPU)
    data = prepare_training_data(model, images, session_cache, CPU)
    seen: list[bool] = []

    def record(module: torch.nn.Module, args: tuple) -> None:
        seen.append(args[0].is_contiguous(memory_format=torch.channels_last))

    model.shared.register_forward_pre_hook(record)
    inputs = data.inputs(config.pad, torch.Generator().manual_seed(0), ForwardNumerics(CPU))
    model.train()
    inputs.forward_batch(model, np.arange(2), np.arange(2))
    inputs.features(model, Modality.INFRARED)
    assert seen and all(seen)


@pytest.fixture()
def cuda_settings(monkeypatch: pytest.MonkeyPatch):
    """The process-wide settings configure_device changes, restored afterwards."""
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    saved = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
        torch.backends.cuda.matmul.allow_tf32,
        torch.backends.cudnn.allow_tf32,
    )
    yield
    torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved[2], saved[3]
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved[4], saved[5]


def test_deterministic_cuda_settings_and_the_fast_ones(cuda_settings: None) -> None:
    # Setting the flags needs no GPU; what they do to a CUDA run is checked by the cuda_only tests.
    configure_device(CUDA, deterministic=True)
    assert torch.are_deterministic_algorithms_enabled() and torch.backends.cudnn.deterministic
    assert not torch.backends.cudnn.benchmark
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == CUBLAS_WORKSPACE_CONFIG
    configure_device(CUDA, deterministic=False)
    assert not torch.are_deterministic_algorithms_enabled() and torch.backends.cudnn.benchmark
    assert torch.backends.cuda.matmul.allow_tf32 and torch.backends.cudnn.allow_tf32


def test_a_cpu_run_leaves_the_process_settings_alone(cuda_settings: None) -> None:
    before = (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark)
    configure_device(CPU, deterministic=True)
    assert (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.benchmark) == before
    assert "CUBLAS_WORKSPACE_CONFIG" not in os.environ


def test_a_smoke_run_on_the_test_device_completes(
    device: torch.device, sysu_smoke_task: Task, session_cache: Path
) -> None:
    """The pipeline on MMM_TEST_DEVICE (cpu unless set) in that device's default precision."""
    result = run_pipeline(profile_config("smoke", "sysu"), sysu_smoke_task, device=device, cache_dir=session_cache)
    assert all(math.isfinite(value) for value in _losses(result.epochs))
    assert set(result.metrics) == {"all", "indoor"}


@cuda_only
def test_the_same_seed_gives_the_same_augmented_batch_on_the_cpu_and_on_cuda() -> None:
    images = TrainingImages(_images(8, 2), _images(8, 3), np.zeros(8, np.int64), np.ones(8, np.int64))
    batches = []
    for device in (CPU, CUDA):
        inputs = PixelInputs(images, 4, torch.Generator().manual_seed(5), ForwardNumerics(device))
        visible, infrared, plan = inputs.loader.take(inputs.prepare(np.arange(4), np.arange(4, 8)).pending)
        batches.append([tensor.cpu() for tensor in (visible, infrared, plan)])
    for on_cpu, on_cuda in zip(*batches):
        assert torch.equal(on_cpu, on_cuda)


@cuda_only
def test_a_deterministic_cuda_run_repeats_bit_for_bit(sysu_smoke_task: Task, session_cache: Path) -> None:
    config = profile_config("smoke", "sysu", deterministic=True, backbone="agw_resnet18_small", pretrained="none")
    first = run_pipeline(config, sysu_smoke_task, device=CUDA, cache_dir=session_cache)
    second = run_pipeline(config, sysu_smoke_task, device=CUDA, cache_dir=session_cache)
    assert first.model_digest == second.model_digest and first.metrics == second.metrics
