"""One training step of a backbone preset, as stage C takes it: forward of a visible batch in two views and an
infrared batch, cross-entropy on a linear classifier over the BN-neck features, backward, SGD step.

The loss is kept to cross-entropy: stage C's other terms (triplet, L_intra, L_inter) cost O(batch²·D) flops,
nothing next to the network's. On CUDA the step runs as the paper profile would: bf16 autocast and
channels-last tensors; on the CPU in float32. Module-level functions, so the memory child can run them.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from mmm.models.agw import TwoStreamAGW
from mmm.models.factory import create_backbone
from mmm.pipeline.config import PipelineConfig
from tests.bench.cases import TRAINING_CASES, TrainingCase
from tests.bench.devices import CUDA, synchronize

CONFIG = PipelineConfig()


@dataclass
class TrainingState:
    """A model, its classifier and optimiser, and one fixed batch already on the device."""

    model: TwoStreamAGW
    classifier: nn.Linear
    optimizer: torch.optim.Optimizer
    visible: torch.Tensor  # [2·P·K, 3, H, W]: both views of the visible images
    infrared: torch.Tensor  # [P·K, 3, H, W]
    targets: torch.Tensor  # [3·P·K]: visible rows (twice), then infrared rows
    device: str


def build(case_name: str, device: str, seed: int = 0) -> tuple[TrainingState]:
    """The training state of a case (a 1-tuple, the argument list of `step`)."""
    case: TrainingCase = TRAINING_CASES[case_name]
    torch.manual_seed(seed)
    memory_format = torch.channels_last if device == CUDA else torch.contiguous_format
    model = create_backbone(case.backbone).to(device, memory_format=memory_format).train()
    classifier = nn.Linear(model.feature_dim, case.identities, bias=False).to(device)
    optimizer = torch.optim.SGD(
        [
            {"params": model.parameters(), "lr": CONFIG.lr_backbone},
            {"params": classifier.parameters(), "lr": CONFIG.lr_head},
        ],
        momentum=0.9, nesterov=True, weight_decay=CONFIG.weight_decay,
    )
    generator = torch.Generator().manual_seed(seed)
    shape = (3, case.height, case.width)
    visible = torch.randn(2 * case.per_modality, *shape, generator=generator)
    infrared = torch.randn(case.per_modality, *shape, generator=generator)
    identities = torch.arange(case.identities).repeat_interleave(case.instances)
    targets = torch.cat([identities, identities, identities])
    return (TrainingState(
        model, classifier, optimizer,
        visible.to(device, memory_format=memory_format), infrared.to(device, memory_format=memory_format),
        targets.to(device), device,
    ),)


def step(state: TrainingState) -> float:
    """One forward, backward and SGD step on the state's batch; returns the loss."""
    autocast = (
        torch.autocast(device_type=CUDA, dtype=torch.bfloat16) if state.device == CUDA else contextlib.nullcontext()
    )
    with autocast:
        _, bn = state.model.forward_visible_infrared(state.visible, state.infrared)
        loss = F.cross_entropy(state.classifier(bn), state.targets)
    state.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    state.optimizer.step()
    synchronize(state.device)
    return float(loss.detach())
