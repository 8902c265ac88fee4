"""The two-stream AGW backbone: one stem per modality, shared ResNet stages, non-local blocks, GeM and a BN neck.

Also the named presets (`create_backbone`) that studies and profiles pick backbones by.
"""
from __future__ import annotations

import copy
import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mmm.data.records import Modality
from mmm.models.layers import BNNeck, GeM, NonLocalBlock
from mmm.models.resnet import build_resnet
from mmm.models.weights import load_weights

logger = logging.getLogger(__name__)

# AGW puts non-local blocks after the last 2 blocks of layer2 and the last 3 of layer3.
NON_LOCAL_PER_STAGE: dict[str, int] = {"layer2": 2, "layer3": 3}


class Stem(nn.Module):
    """conv1, bn1, relu, maxpool: the modality-specific part of the two-stream network."""

    def __init__(self, conv1: nn.Conv2d, bn1: nn.BatchNorm2d) -> None:
        super().__init__()
        self.conv1 = conv1
        self.bn1 = bn1
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.maxpool(self.relu(self.bn1(self.conv1(x))))


def _non_local_blocks(stage: nn.Sequential, count: int) -> nn.ModuleDict:
    """Non-local blocks keyed by the index of the residual block they follow (the last `count` blocks)."""
    n_blocks = len(stage)
    channels = stage[-1].out_channels
    return nn.ModuleDict({str(i): NonLocalBlock(channels) for i in range(n_blocks - min(count, n_blocks), n_blocks)})


class TwoStreamAGW(nn.Module):
    """AGW ResNet with separate visible and infrared stems (Ye et al., AGW; the USL-VI-ReID backbone).

    In train mode forward returns (pooled feature, BN-neck feature); in eval mode the BN-neck feature alone.
    """

    def __init__(
        self,
        depth: int = 50,
        width: float = 1.0,
        non_local: bool = True,
        last_stride: int = 1,
        gem_p: float = 3.0,
        pretrained: Path | str | None = None,
    ) -> None:
        super().__init__()
        resnet = build_resnet(depth, width, last_stride)
        if pretrained is not None:
            load_weights(resnet, pretrained)
        self.visible_stem = Stem(copy.deepcopy(resnet.conv1), copy.deepcopy(resnet.bn1))
        self.infrared_stem = Stem(copy.deepcopy(resnet.conv1), copy.deepcopy(resnet.bn1))
        self.layer1 = resnet.layer1
        self.layer2 = resnet.layer2
        self.layer3 = resnet.layer3
        self.layer4 = resnet.layer4
        self.non_local = nn.ModuleDict(
            {
                name: _non_local_blocks(getattr(resnet, name), count if non_local else 0)
                for name, count in NON_LOCAL_PER_STAGE.items()
            }
        )
        self.pool = GeM(p=gem_p)
        self.neck = BNNeck(resnet.out_channels)
        self.feature_dim = resnet.out_channels

    def _stage(self, name: str, x: torch.Tensor) -> torch.Tensor:
        blocks: nn.Sequential = getattr(self, name)
        attention = self.non_local[name] if name in self.non_local else {}
        for index, block in enumerate(blocks):
            x = block(x)
            if str(index) in attention:
                x = attention[str(index)](x)
        return x

    def _shared(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        for name in ("layer1", "layer2", "layer3", "layer4"):
            x = self._stage(name, x)
        pooled = self.pool(x)
        normed = self.neck(pooled)
        if self.training:
            return pooled, normed
        return normed

    def _stems(self, x: torch.Tensor, modality: Modality | int | torch.Tensor) -> torch.Tensor:
        if not isinstance(modality, torch.Tensor):
            stem = self.visible_stem if Modality(modality) is Modality.VISIBLE else self.infrared_stem
            return stem(x)
        modality = modality.to(x.device)
        if modality.shape != (x.shape[0],):
            raise ValueError(f"per-sample modality must have shape ({x.shape[0]},), got {tuple(modality.shape)}")
        visible = torch.nonzero(modality == Modality.VISIBLE).flatten()
        infrared = torch.nonzero(modality == Modality.INFRARED).flatten()
        if len(visible) + len(infrared) != len(modality):
            raise ValueError(f"per-sample modality must hold only {[int(m) for m in Modality]}")
        # Each stem sees only its own samples (its BatchNorm statistics stay per modality); the outputs are
        # then put back in the input order.
        parts = [(self.visible_stem, visible), (self.infrared_stem, infrared)]
        parts = [(stem, rows) for stem, rows in parts if len(rows) > 0]
        stemmed = torch.cat([stem(x[rows]) for stem, rows in parts])
        return stemmed[torch.argsort(torch.cat([rows for _, rows in parts]))]

    def forward(
        self, x: torch.Tensor, modality: Modality | int | torch.Tensor
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Features of `x`; `modality` is one Modality for the whole batch or a per-sample tensor of them."""
        return self._shared(self._stems(x, modality))

    def forward_visible_infrared(
        self, x_visible: torch.Tensor, x_infrared: torch.Tensor
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """One pass over a visible batch and an infrared batch; outputs hold the visible rows first."""
        stemmed = torch.cat([self.visible_stem(x_visible), self.infrared_stem(x_infrared)])
        return self._shared(stemmed)


BACKBONE_PRESETS: dict[str, dict[str, Any]] = {
    # The paper's backbone (AGW ResNet-50); pass pretrained=<torchvision resnet50 state dict> for ImageNet init.
    "agw_resnet50": {"depth": 50, "width": 1.0, "non_local": True, "last_stride": 1},
    # Plain two-stream ResNet-50 (no non-local blocks), for ablating AGW's attention.
    "resnet50": {"depth": 50, "width": 1.0, "non_local": False, "last_stride": 1},
    # A quarter-width ResNet-18 for the CPU profiles: forward+backward of 32 images at 64×32 in well under 1 s.
    "resnet18_small": {"depth": 18, "width": 0.25, "non_local": False, "last_stride": 1},
    # The same small network with AGW's non-local blocks, for testing the full architecture cheaply.
    "agw_resnet18_small": {"depth": 18, "width": 0.25, "non_local": True, "last_stride": 1},
}


def list_backbones() -> list[str]:
    """Names accepted by create_backbone."""
    return sorted(BACKBONE_PRESETS)


def create_backbone(name: str, **overrides: Any) -> TwoStreamAGW:
    """A TwoStreamAGW from a named preset; keyword arguments override the preset's settings."""
    if name not in BACKBONE_PRESETS:
        raise ValueError(f"unknown backbone {name!r}; valid names: {', '.join(list_backbones())}")
    settings = {**BACKBONE_PRESETS[name], **overrides}
    logger.debug("building backbone %s with %s", name, settings)
    return TwoStreamAGW(**settings)
