"""Training augmentation of a batch, with its own seeded generator: two visible views and one infrared view."""

from __future__ import annotations

import torch

from mmm.data.transforms import train_view_infrared, train_views_visible


class Augmenter:
    def __init__(self, pad: int, generator: torch.Generator) -> None:
        self.pad = pad
        self.generator = generator

    def visible(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(normal view, channel-exchange view) of a uint8 visible batch."""
        return train_views_visible(batch, self.generator, pad=self.pad)

    def infrared(self, batch: torch.Tensor) -> torch.Tensor:
        return train_view_infrared(batch, self.generator, pad=self.pad)
