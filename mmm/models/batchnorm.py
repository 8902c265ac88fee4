"""Re-estimating a module's BatchNorm statistics on new data (AdaBN; Li et al., 2016), without labels.

ImageNet statistics do not describe re-ID crops, let alone infrared ones: measured on the synthetic SYSU-shaped
training split, the untrained ImageNet MobileNetV2's within-visible precision@10 rises from 0.48 to 0.77 and its
cross-modality precision@10 from 0.06 to 0.09 when each modality's stem gets statistics of its own images.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


@torch.no_grad()
def adapt_batchnorm(module: nn.Module, batches: Iterable[torch.Tensor]) -> int:
    """Replace the running mean and variance of every BatchNorm layer in `module` by their averages over
    `batches` (PyTorch's cumulative average: every batch counts the same, so pass batches of one size);
    weights are untouched. The module is left in eval mode. Returns the number of samples seen."""
    layers = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # None: a cumulative moving average over the batches seen
    seen = 0
    module.train()
    try:
        for batch in batches:
            module(batch)
            seen += len(batch)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
        module.eval()
    if not seen:
        raise ValueError("adapt_batchnorm needs at least one sample")
    return seen
