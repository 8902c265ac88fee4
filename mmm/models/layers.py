"""The AGW head and attention layers: GeM pooling, the non-local block and the BN neck."""

from __future__ import annotations

import contextlib
from typing import ContextManager

import torch
from torch import nn


def _no_autocast(device: torch.device) -> ContextManager[object]:
    """Autocast switched off on `device` (a device without autocast support has none to switch off)."""
    if device.type in ("cpu", "cuda"):
        return torch.autocast(device.type, enabled=False)
    return contextlib.nullcontext()


class GeM(nn.Module):
    """Generalised-mean pooling over the spatial positions: (mean x^p)^(1/p), p=3 as in AGW.

    p is a fixed buffer by default (AGW does not learn it); `learnable=True` makes it a parameter.
    """

    def __init__(self, p: float = 3.0, eps: float = 1e-6, learnable: bool = False) -> None:
        super().__init__()
        if p <= 0:
            raise ValueError(f"GeM p must be positive, got {p}")
        p_tensor = torch.tensor(float(p))
        if learnable:
            self.p = nn.Parameter(p_tensor)
        else:
            self.register_buffer("p", p_tensor)
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # In float32 whatever the trunk ran in: x^3 of bfloat16 activations loses the pooled feature's precision,
        # and everything after the pooling (neck, memories, losses) is float32.
        with _no_autocast(x.device):
            x = x.float()
            # The clamp keeps x^(1/p) away from 0, where its gradient is infinite.
            pooled = x.clamp(min=self.eps).pow(self.p).mean(dim=(2, 3))
            return pooled.pow(1.0 / self.p)

    def extra_repr(self) -> str:
        return f"p={float(self.p):.2f}, eps={self.eps}, learnable={isinstance(self.p, nn.Parameter)}"


class NonLocalBlock(nn.Module):
    """Dot-product non-local block (Wang et al. 2018) as used by AGW, with a residual connection.

    The output BatchNorm starts at zero scale and shift, so a fresh block is the identity and inserting it
    does not disturb pretrained weights.
    """

    def __init__(self, channels: int, reduction: int = 2) -> None:
        super().__init__()
        inner = max(1, channels // reduction)
        self.theta = nn.Conv2d(channels, inner, kernel_size=1)
        self.phi = nn.Conv2d(channels, inner, kernel_size=1)
        self.g = nn.Conv2d(channels, inner, kernel_size=1)
        project = nn.Conv2d(inner, channels, kernel_size=1)
        norm = nn.BatchNorm2d(channels)
        self.out = nn.Sequential(project, norm)
        nn.init.zeros_(norm.weight)
        nn.init.zeros_(norm.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, _, height, width = x.shape
        theta = self.theta(x).flatten(2).transpose(1, 2)
        phi = self.phi(x).flatten(2)
        g = self.g(x).flatten(2).transpose(1, 2)
        # Dividing by the number of positions (rather than a softmax) is AGW's normalisation.
        affinity = torch.bmm(theta, phi) / phi.shape[-1]
        y = torch.bmm(affinity, g).transpose(1, 2).reshape(batch, -1, height, width)
        return x + self.out(y)


class BNNeck(nn.BatchNorm1d):
    """BatchNorm1d on the pooled feature with its shift frozen at zero (the BNNeck of Luo et al.)."""

    def __init__(self, features: int) -> None:
        super().__init__(features)
        self.bias.requires_grad_(False)
