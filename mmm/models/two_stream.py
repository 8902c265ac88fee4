"""What every two-stream re-ID backbone shares: one stem per modality, a shared trunk, GeM pooling and a BN neck.

Subclasses build the stems and the trunk (ResNet stages with AGW's attention, or MobileNetV2 blocks); this class
routes each sample through the stem of its modality and applies the head. In train mode forward returns
(pooled feature, BN-neck feature); in eval mode the BN-neck feature alone.

Stems may be frozen: their weights never train and their BatchNorm layers stay in eval mode, holding statistics
measured once per modality on the training images (`adapt_stem_statistics`, label-free). A frozen stem's
output depends only on its input image, so callers may compute it once per image (`stem`) and train on those
outputs (`forward_stemmed`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import nn

from mmm.data.records import Modality
from mmm.models.layers import BNNeck, GeM


class TwoStreamNetwork(nn.Module, ABC):
    """Base of the two-stream backbones. Subclasses set `visible_stem`, `infrared_stem` and implement `trunk`."""

    visible_stem: nn.Module
    infrared_stem: nn.Module

    def __init__(self, feature_dim: int, gem_p: float) -> None:
        super().__init__()
        self.pool = GeM(p=gem_p)
        self.neck = BNNeck(feature_dim)
        self.feature_dim = feature_dim
        self.frozen_stems = False

    def freeze_stems(self) -> None:
        """Stop the stems' weights from training and keep their BatchNorm statistics as they are."""
        self.frozen_stems = True
        for stem in (self.visible_stem, self.infrared_stem):
            stem.requires_grad_(False)
            stem.eval()

    def train(self, mode: bool = True) -> "TwoStreamNetwork":
        super().train(mode)
        if self.frozen_stems:
            self.visible_stem.eval()
            self.infrared_stem.eval()
        return self

    def stem_of(self, modality: Modality | int) -> nn.Module:
        return self.visible_stem if Modality(modality) is Modality.VISIBLE else self.infrared_stem

    @abstractmethod
    def trunk(self, x: torch.Tensor) -> torch.Tensor:
        """The shared layers: stem output -> last feature map."""

    def _head(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        pooled, normed = self.pooled_and_neck(x)
        if self.training:
            return pooled, normed
        return normed

    def pooled_and_neck(self, stemmed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(pooled, BN-neck) features of stem outputs in either mode (forward gives the neck alone in eval)."""
        pooled = self.pool(self.trunk(stemmed))
        return pooled, self.neck(pooled)

    def stem(self, x: torch.Tensor, modality: Modality | int | torch.Tensor) -> torch.Tensor:
        """The stem outputs of `x`; `modality` is one Modality for the whole batch or a per-sample tensor."""
        if not isinstance(modality, torch.Tensor):
            return self.stem_of(modality)(x)
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
        return self._head(self.stem(x, modality))

    def forward_visible_infrared(
        self, x_visible: torch.Tensor, x_infrared: torch.Tensor
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """One pass over a visible batch and an infrared batch; outputs hold the visible rows first."""
        stemmed = torch.cat([self.visible_stem(x_visible), self.infrared_stem(x_infrared)])
        return self._head(stemmed)

    def forward_stemmed(self, stemmed: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """The shared trunk and head on stem outputs (as `stem` returns them), whatever their modality."""
        return self._head(stemmed)
