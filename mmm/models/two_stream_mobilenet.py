"""The two-stream MobileNetV2: the first `stem_blocks` blocks of MobileNetV2 once per modality, the remaining
blocks shared, and the GeM + BN-neck head of AGW (TwoStreamNetwork) on the 1280-channel map.

The CPU profiles' backbone, an ImageNet network whose weights ship inside a registry package
(mmm.models.pretrained). Weights load strictly into the whole MobileNetV2 before it is split, so both stems
start as the same ImageNet blocks. With `frozen_stems` the stems keep their ImageNet weights and differ only by
the BatchNorm statistics each is given on its own modality; only the shared blocks and the head train.
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch
from torch import nn

from mmm.models.mobilenet import MobileNetV2Features
from mmm.models.two_stream import TwoStreamNetwork
from mmm.models.weights import load_weights


class TwoStreamMobileNet(TwoStreamNetwork):
    def __init__(
        self,
        stem_blocks: int = 2,
        frozen_stems: bool = False,
        last_stride: int = 1,
        gem_p: float = 3.0,
        pretrained: Path | str | None = None,
    ) -> None:
        backbone = MobileNetV2Features(last_stride)
        super().__init__(backbone.out_channels, gem_p)
        n_blocks = len(backbone.features)
        if not 1 <= stem_blocks < n_blocks:
            raise ValueError(f"stem_blocks must be between 1 and {n_blocks - 1}, got {stem_blocks}")
        if pretrained is not None:
            load_weights(backbone, pretrained)
        blocks = list(backbone.features)
        self.visible_stem = nn.Sequential(*copy.deepcopy(blocks[:stem_blocks]))
        self.infrared_stem = nn.Sequential(*copy.deepcopy(blocks[:stem_blocks]))
        self.shared = nn.Sequential(*blocks[stem_blocks:])
        self.stem_blocks = stem_blocks
        if frozen_stems:
            self.freeze_stems()

    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        return self.shared(x)
