"""One training step of a backbone preset, as stage C takes it: forward of a visible batch in two views and an
infrared batch, cross-entropy on a linear classifier over the BN-neck features, backward, SGD step.

The loss is kept to cross-entropy: stage C's other terms (triplet, L_intra, L_inter) cost O(batch²·D) flops,
nothing next to the network's. A case with stored stems starts from the frozen stems' outputs, computed once
before timing, as the quick profile does (mmm.pipeline.stem_encoding); the others start from pixels. On CUDA
the step runs as the paper profile would: bf16 autocast and channels-last tensors; on the CPU in float32.
Module-level functions, so the memory child can run them.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from mmm.models.factory import create_backbone
from mmm.models.two_stream import TwoStreamNetwork
from mmm.pipeline.config import PipelineConfig
from tests.bench.cases import TRAINING_CASES, TrainingCase
from tests.bench.devices import CUDA, synchronize

CONFIG = PipelineConfig()
# Side of the square float32 matrices of the GEMM reference: large enough to reach the BLAS's peak on a CPU.
GEMM_SIZE = 2048
GEMM_ROUNDS = 5


@dataclass
class TrainingState:
    """A model, its classifier and optimiser, and one fixed batch already on the device."""

    model: TwoStreamNetwork
    classifier: nn.Linear
    optimizer: torch.optim.Optimizer
    visible: torch.Tensor  # [2·P·K, ...]: both views of the visible images (pixels, or stem outputs)
    infrared: torch.Tensor  # [P·K, ...]
    targets: torch.Tensor  # [3·P·K]: visible rows (twice), then infrared rows
    device: str
    stored_stems: bool


def build(case_name: str, device: str, seed: int = 0) -> tuple[TrainingState]:
    """The training state of a case (a 1-tuple, the argument list of `step`)."""
    case: TrainingCase = TRAINING_CASES[case_name]
    torch.manual_seed(seed)
    memory_format = torch.channels_last if device == CUDA else torch.contiguous_format
    model = create_backbone(case.backbone).to(device, memory_format=memory_format).train()
    classifier = nn.Linear(model.feature_dim, case.identities, bias=False).to(device)
    optimizer = torch.optim.SGD(
        [
            {"params": [p for p in model.parameters() if p.requires_grad], "lr": CONFIG.lr_backbone},
            {"params": classifier.parameters(), "lr": CONFIG.lr_head},
        ],
        momentum=0.9,
        nesterov=True,
        weight_decay=CONFIG.weight_decay,
    )
    generator = torch.Generator().manual_seed(seed)
    shape = (3, case.height, case.width)
    visible = torch.randn(2 * case.per_modality, *shape, generator=generator)
    infrared = torch.randn(case.per_modality, *shape, generator=generator)
    visible = visible.to(device, memory_format=memory_format)
    infrared = infrared.to(device, memory_format=memory_format)
    if case.stored_stems:
        with torch.no_grad():
            visible, infrared = model.visible_stem(visible), model.infrared_stem(infrared)
    identities = torch.arange(case.identities).repeat_interleave(case.instances)
    targets = torch.cat([identities, identities, identities])
    return (
        TrainingState(model, classifier, optimizer, visible, infrared, targets.to(device), device, case.stored_stems),
    )


def forward(state: TrainingState) -> tuple[torch.Tensor, torch.Tensor]:
    """The network's pass over the state's batch, from stem outputs or from pixels as the case says."""
    if state.stored_stems:
        return state.model.forward_stemmed(torch.cat([state.visible, state.infrared]))
    return state.model.forward_visible_infrared(state.visible, state.infrared)


def step(state: TrainingState) -> float:
    """One forward, backward and SGD step on the state's batch; returns the loss."""
    autocast = (
        torch.autocast(device_type=CUDA, dtype=torch.bfloat16) if state.device == CUDA else contextlib.nullcontext()
    )
    with autocast:
        _, bn = forward(state)
        loss = F.cross_entropy(state.classifier(bn), state.targets)
    state.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    state.optimizer.step()
    synchronize(state.device)
    return float(loss.detach())


def step_flops(case_name: str, device: str) -> int:
    """Floating-point operations of one step, by the usual convention of three times the forward pass's
    (the backward computes gradients of both inputs and weights). The forward is counted with torch's flop
    counter; its backward formulas are not used because they count a depthwise convolution's weight gradient
    as a dense one (several times MobileNetV2's whole step)."""
    (state,) = build(case_name, device)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        forward(state)
    return 3 * int(counter.get_total_flops())


def gemm_gflops(device: str, size: int = GEMM_SIZE, rounds: int = GEMM_ROUNDS) -> float:
    """The machine's float32 GEMM rate (GFLOP/s): the best of `rounds` square products of side `size`, with
    torch's own thread pool, as a reference for what the training step achieves."""
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=generator).to(device)
    b = torch.randn(size, size, generator=generator).to(device)
    torch.mm(a, b)  # warm-up: thread pool, allocator
    synchronize(device)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        torch.mm(a, b)
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9
