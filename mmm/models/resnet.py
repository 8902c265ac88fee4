"""ResNet-18/34/50 with torchvision's state-dict layout, a width multiplier and a configurable last stride.

The module names (conv1, bn1, layer1..4, blocks with conv1/bn1/conv2/bn2[/conv3/bn3], downsample.0/.1, fc)
match torchvision's exactly, so a torchvision-format ImageNet state dict loads without renaming.
"""

from __future__ import annotations

import torch
from torch import nn

MIN_CHANNELS = 8
BASE_CHANNELS = 64
STAGE_BLOCKS: dict[int, tuple[int, int, int, int]] = {
    18: (2, 2, 2, 2),
    34: (3, 4, 6, 3),
    50: (3, 4, 6, 3),
}


def _conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride, padding=1, bias=False)


def _conv1x1(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=stride, bias=False)


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with an identity (or projected) shortcut; used by ResNet-18/34."""

    expansion = 1

    def __init__(self, in_channels: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = _conv3x3(in_channels, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.out_channels = planes

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + shortcut)


class Bottleneck(nn.Module):
    """1×1 reduce, 3×3, 1×1 expand (×4); the stride sits on the 3×3 convolution as in torchvision (v1.5)."""

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
        super().__init__()
        self.conv1 = _conv1x1(in_channels, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = _conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = _conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample
        self.out_channels = planes * self.expansion

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + shortcut)


Block = type[BasicBlock] | type[Bottleneck]


def _make_stage(block: Block, in_channels: int, planes: int, n_blocks: int, stride: int) -> nn.Sequential:
    out_channels = planes * block.expansion
    downsample = None
    if stride != 1 or in_channels != out_channels:
        downsample = nn.Sequential(_conv1x1(in_channels, out_channels, stride), nn.BatchNorm2d(out_channels))
    blocks = [block(in_channels, planes, stride, downsample)]
    blocks += [block(out_channels, planes) for _ in range(n_blocks - 1)]
    return nn.Sequential(*blocks)


class ResNet(nn.Module):
    """Stem (conv1, bn1, relu, maxpool), four stages, global average pool and an ImageNet-sized classifier."""

    def __init__(
        self,
        block: Block,
        stage_blocks: tuple[int, int, int, int],
        stage_planes: tuple[int, int, int, int],
        last_stride: int = 2,
        num_classes: int = 1000,
    ) -> None:
        super().__init__()
        stem_channels = stage_planes[0]
        self.conv1 = nn.Conv2d(3, stem_channels, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_channels)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        strides = (1, 2, 2, last_stride)
        in_channels = stem_channels
        stages = []
        for n_blocks, planes, stride in zip(stage_blocks, stage_planes, strides):
            stages.append(_make_stage(block, in_channels, planes, n_blocks, stride))
            in_channels = planes * block.expansion
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_channels, num_classes)
        self.out_channels = in_channels
        self._init_weights()

    def _init_weights(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The last stage's feature map, before pooling."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.avgpool(self.forward_features(x)), 1))


def stage_planes(width: float) -> tuple[int, int, int, int]:
    """Bottleneck/basic-block widths of the four stages for a width multiplier (64·w, doubling; ≥ 8 each)."""
    if width <= 0:
        raise ValueError(f"width must be positive, got {width}")
    planes = [max(MIN_CHANNELS, round(BASE_CHANNELS * width * 2**i)) for i in range(4)]
    return planes[0], planes[1], planes[2], planes[3]


def build_resnet(depth: int, width: float = 1.0, last_stride: int = 2) -> ResNet:
    """A ResNet of the given depth (18, 34 or 50) whose state-dict keys match torchvision's."""
    if depth not in STAGE_BLOCKS:
        raise ValueError(f"depth must be one of {sorted(STAGE_BLOCKS)}, got {depth}")
    if last_stride not in (1, 2):
        raise ValueError(f"last_stride must be 1 or 2, got {last_stride}")
    block: Block = Bottleneck if depth >= 50 else BasicBlock
    return ResNet(block, STAGE_BLOCKS[depth], stage_planes(width), last_stride=last_stride)
