"""The two-stream AGW backbone: one ResNet stem per modality, shared ResNet stages with non-local blocks, and
the GeM + BN-neck head of TwoStreamNetwork."""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch import nn

from mmm.models.layers import NonLocalBlock
from mmm.models.resnet import BasicBlock, Bottleneck, build_resnet
from mmm.models.two_stream import TwoStreamNetwork
from mmm.models.weights import load_weights

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
    last = stage[-1]
    if not isinstance(last, (BasicBlock, Bottleneck)):
        raise TypeError(f"expected a ResNet stage of residual blocks, got a {type(last).__name__} last")
    channels = last.out_channels
    return nn.ModuleDict({str(i): NonLocalBlock(channels) for i in range(n_blocks - min(count, n_blocks), n_blocks)})


class TwoStreamAGW(TwoStreamNetwork):
    """AGW ResNet with separate visible and infrared stems (Ye et al., AGW; the USL-VI-ReID backbone)."""

    def __init__(
        self,
        depth: int = 50,
        width: float = 1.0,
        non_local: bool = True,
        last_stride: int = 1,
        gem_p: float = 3.0,
        pretrained: Path | str | None = None,
    ) -> None:
        resnet = build_resnet(depth, width, last_stride)
        super().__init__(resnet.out_channels, gem_p)
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

    def _non_local_after(self, name: str) -> nn.ModuleDict | dict[str, nn.Module]:
        """The non-local blocks of stage `name`, keyed by the index of the residual block each follows."""
        if name not in self.non_local:
            return {}
        blocks = self.non_local[name]
        if not isinstance(blocks, nn.ModuleDict):
            raise TypeError(f"non_local[{name!r}] should be a ModuleDict, got a {type(blocks).__name__}")
        return blocks

    def _stage(self, name: str, x: torch.Tensor) -> torch.Tensor:
        blocks: nn.Sequential = getattr(self, name)
        attention = self._non_local_after(name)
        for index, block in enumerate(blocks):
            x = block(x)
            if str(index) in attention:
                x = attention[str(index)](x)
        return x

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        for name in ("layer1", "layer2", "layer3", "layer4"):
            x = self._stage(name, x)
        return x
