"""Memory a training step holds for its backward pass, counted without a GPU.

`step_saved_bytes` runs a stage A/B step's forward and loss (a visible batch in two views and an infrared batch
through the network, ClusterNCE on a cluster memory per modality) under a saved-tensor hook that records every
tensor autograd keeps for the backward pass, counted once per storage; the network's own parameters are left out
(they are there whether or not a step runs), the float copies autocast makes of them are counted. With `fake`
the step runs on fake tensors (torch's FakeTensorMode): shapes and dtypes only, no memory and no arithmetic, so a
576-image paper batch at 288x144 is counted in seconds on any machine; test_bench_helpers checks that a fake count
equals the count of a real run.

bfloat16 runs under the CPU's autocast, whose list of operations cast to bfloat16 (convolutions, matrix products)
is CUDA's for this network; the layout (channels-last on CUDA) does not change the bytes.

`python -m tests.bench.saved_activations` prints the table of the README (paper batches, both precisions).
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass

import torch
from torch._subclasses.fake_tensor import FakeTensorMode

from mmm.choices import Precision
from mmm.memory.cluster_memory import ClusterMemory
from mmm.models.factory import create_backbone
from mmm.models.numerics import ForwardNumerics

GB = 1e9
# Clusters per modality memory in the counted step: the loss's share of the bytes is a few MB at any count.
CLUSTERS = 500
# (batch name, pseudo-identities P, instances K per modality): the paper recipe's 12 x 16, the release's 8 x 16.
PAPER_BATCHES = (("12x16 (paper recipe)", 12, 16), ("8x16 (release recipe)", 8, 16))


@dataclass(frozen=True)
class SavedBytes:
    images: int  # images through the network: 2 x P x K visible views + P x K infrared
    total: int  # bytes saved for the backward pass
    by_dtype: dict[str, int]

    @property
    def per_image(self) -> float:
        return self.total / self.images


def step_saved_bytes(
    backbone: str, height: int, width: int, per_modality: int, precision: Precision, fake: bool = True
) -> SavedBytes:
    """Bytes a stage A/B step saves for backward: `per_modality` visible images (two views) and as many infrared
    images of height x width through `backbone` in `precision`, ClusterNCE on both modalities."""
    torch.manual_seed(0)
    model = create_backbone(backbone).train()
    own = {p.untyped_storage()._cdata for p in (*model.parameters(), *model.buffers())}
    saved: dict[int, tuple[int, torch.dtype]] = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        if storage._cdata not in own:
            saved[storage._cdata] = (storage.nbytes(), tensor.dtype)
        return tensor

    numerics = ForwardNumerics(torch.device("cpu"), precision)
    mode = FakeTensorMode(allow_non_fake_inputs=True) if fake else contextlib.nullcontext()
    with mode:
        # Made inside the mode, like the batch: a fake run must not meet a real memory (it would copy it).
        memory = ClusterMemory(model.feature_dim, CLUSTERS)
        own.add(memory.features.untyped_storage()._cdata)
    with mode, torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        visible = torch.rand(2 * per_modality, 3, height, width)
        infrared = torch.rand(per_modality, 3, height, width)
        targets = torch.zeros(2 * per_modality, dtype=torch.long)
        with numerics.autocast():
            _, neck = model.forward_visible_infrared(visible, infrared)
        loss = memory.loss(neck[: 2 * per_modality], targets) + memory.loss(neck[2 * per_modality :], targets[::2])
        del loss
    by_dtype: dict[str, int] = {}
    for size, dtype in saved.values():
        by_dtype[str(dtype).removeprefix("torch.")] = by_dtype.get(str(dtype).removeprefix("torch."), 0) + size
    return SavedBytes(3 * per_modality, sum(by_dtype.values()), by_dtype)


def paper_table(backbone: str = "agw_resnet50", height: int = 288, width: int = 144) -> str:
    """The README's table: saved bytes of the paper batches in both precisions (markdown)."""
    lines = ["| batch (P x K per modality) | images per step | fp32 | bf16 | bf16 per image |", "|---|---|---|---|---|"]
    for name, p, k in PAPER_BATCHES:
        fp32 = step_saved_bytes(backbone, height, width, p * k, "fp32")
        bf16 = step_saved_bytes(backbone, height, width, p * k, "bf16")
        lines.append(
            f"| {name} | {fp32.images} | {fp32.total / GB:.1f} GB | {bf16.total / GB:.1f} GB "
            f"| {bf16.per_image / 1e6:.1f} MB |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(paper_table() + "\n")
