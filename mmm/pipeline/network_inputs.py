"""How training images reach the network: augmented pixels through trainable stems, or, for a backbone whose
stems are frozen, the stems' stored outputs (mmm.pipeline.stem_encoding) through the shared blocks alone.

Every stage asks a NetworkInputs for the same three things: the network's outputs on a training batch (visible
rows in two views, then infrared rows), flip-averaged eval features of every training image (clustering,
MMLM), and eval (pooled, BN-neck) features of the un-augmented images (stage C's confidences and prototypes).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from mmm.data.records import Modality
from mmm.data.transforms import eval_transform
from mmm.features.extract import extract_features
from mmm.host_to_device import to_device
from mmm.models.two_stream import TwoStreamNetwork
from mmm.pipeline.augment import Augmenter
from mmm.pipeline.stem_encoding import encode_images
from mmm.pipeline.training_images import TrainingImages, batch_tensor

Outputs = tuple[torch.Tensor, torch.Tensor]  # (pooled, BN-neck) features of a batch, in train mode
EVAL_BATCH = 256
# Stem outputs are small: the shared blocks take more of them per eval batch.
STEMMED_EVAL_BATCH = 1024
# Random erasing of stem outputs, as docs/design.md §1.8's pixel erasing: probability and area range of the rectangle.
ERASE_PROB = 0.5
ERASE_AREA = (0.02, 0.4)


def _train_outputs(outputs: torch.Tensor | Outputs) -> Outputs:
    """A forward pass's (pooled, BN-neck) pair; a model in eval mode gives the BN-neck features alone."""
    if not isinstance(outputs, tuple):
        raise RuntimeError("forward_batch needs the model in train mode (eval mode gives the BN-neck features alone)")
    return outputs


class NetworkInputs(ABC):
    @abstractmethod
    def forward_batch(self, model: TwoStreamNetwork, index_v: np.ndarray, index_r: np.ndarray) -> Outputs:
        """Train-mode outputs on the augmented batch: visible rows `index_v` in two views, then infrared rows."""

    @abstractmethod
    def features(self, model: TwoStreamNetwork, modality: Modality) -> torch.Tensor:
        """[N, D] eval BN-neck features of every training image of `modality`, flip-averaged, L2-normalised."""

    @abstractmethod
    def plain_outputs(self, model: TwoStreamNetwork, modality: Modality) -> Outputs:
        """Eval-mode (pooled, BN-neck) features [N, D] of the un-augmented training images of `modality`."""


class PixelInputs(NetworkInputs):
    """Augmented pixels (docs/design.md §1.8: pad-crop, flip, erasing; channel exchange for the second visible view,
    adaptive gray for infrared) through the model's own stems."""

    def __init__(self, images: TrainingImages, augment: Augmenter, device: torch.device) -> None:
        self.images = images
        self.augment = augment
        self.device = device

    def forward_batch(self, model: TwoStreamNetwork, index_v: np.ndarray, index_r: np.ndarray) -> Outputs:
        view1, view2 = self.augment.visible(batch_tensor(self.images.visible, index_v))
        infrared = self.augment.infrared(batch_tensor(self.images.infrared, index_r))
        return _train_outputs(
            model.forward_visible_infrared(torch.cat([view1, view2]).to(self.device), infrared.to(self.device))
        )

    def features(self, model: TwoStreamNetwork, modality: Modality) -> torch.Tensor:
        return extract_features(model, self.images.of(modality), modality, device=self.device)

    @torch.no_grad()
    def plain_outputs(self, model: TwoStreamNetwork, modality: Modality) -> Outputs:
        images = self.images.of(modality)
        was_training = model.training
        model.eval()
        try:
            chunks = [
                model.pooled_and_neck(
                    model.stem(
                        eval_transform(batch_tensor(images, np.arange(start, min(start + EVAL_BATCH, len(images))))).to(
                            self.device
                        ),
                        modality,
                    )
                )
                for start in range(0, len(images), EVAL_BATCH)
            ]
        finally:
            model.train(was_training)
        return torch.cat([c[0] for c in chunks]).cpu(), torch.cat([c[1] for c in chunks]).cpu()


@dataclass(frozen=True)
class StemOutputs:
    """Stored outputs of the frozen stems, per view (mmm.pipeline.stem_encoding.VIEWS)."""

    visible: dict[str, torch.Tensor]  # "plain", "flip" and "exchange"
    infrared: dict[str, torch.Tensor]  # "plain" and "flip"

    def of(self, modality: Modality) -> dict[str, torch.Tensor]:
        return self.visible if modality == Modality.VISIBLE else self.infrared


def erase_maps(maps: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random erasing on stem outputs [B, C, h, w]: with ERASE_PROB per sample, one rectangle of ERASE_AREA of
    the map (aspect 0.3..3.3, at least one cell) is set to zero. The draws come from `generator` on its own device
    and are sent to the maps' device; the rectangles are drawn there."""
    b, _, h, w = maps.shape
    apply = torch.rand(b, generator=generator) < ERASE_PROB
    area = ERASE_AREA[0] + (ERASE_AREA[1] - ERASE_AREA[0]) * torch.rand(b, generator=generator)
    aspect = 0.3 + (1 / 0.3 - 0.3) * torch.rand(b, generator=generator)
    eh = torch.sqrt(area * h * w * aspect).round().clamp(1, h).long()
    ew = torch.sqrt(area * h * w / aspect).round().clamp(1, w).long()
    top = (torch.rand(b, generator=generator) * (h - eh + 1)).long()
    left = (torch.rand(b, generator=generator) * (w - ew + 1)).long()
    # One transfer for the whole batch's rectangles: [5, B] (top, bottom, left, right, applied).
    box = to_device(torch.stack([top, top + eh, left, left + ew, apply.long()]), maps.device)
    ys = torch.arange(h, device=maps.device).view(1, h, 1)
    xs = torch.arange(w, device=maps.device).view(1, 1, w)
    inside = (
        (ys >= box[0].view(-1, 1, 1))
        & (ys < box[1].view(-1, 1, 1))
        & (xs >= box[2].view(-1, 1, 1))
        & (xs < box[3].view(-1, 1, 1))
        & box[4].bool().view(-1, 1, 1)
    )
    return maps.masked_fill(inside[:, None], 0.0)


class StemmedInputs(NetworkInputs):
    """Stored stem outputs through the shared blocks: the training flip picks the mirrored image's output, the
    second visible view is the stored exchange view, and erasing acts on the outputs."""

    def __init__(self, outputs: StemOutputs, generator: torch.Generator, device: torch.device) -> None:
        self.outputs = outputs
        self.generator = generator
        self.device = device

    def _flipped(self, views: dict[str, torch.Tensor], index: np.ndarray) -> torch.Tensor:
        mirror = (torch.rand(len(index), generator=self.generator) < 0.5).view(-1, 1, 1, 1)
        rows = torch.from_numpy(index)
        return torch.where(mirror, views["flip"][rows], views["plain"][rows]).float()

    def forward_batch(self, model: TwoStreamNetwork, index_v: np.ndarray, index_r: np.ndarray) -> Outputs:
        view1 = self._flipped(self.outputs.visible, index_v)
        view2 = self.outputs.visible["exchange"][torch.from_numpy(index_v)].float()
        infrared = self._flipped(self.outputs.infrared, index_r)
        maps = erase_maps(torch.cat([view1, view2, infrared]), self.generator)
        return _train_outputs(model.forward_stemmed(maps.to(self.device)))

    def features(self, model: TwoStreamNetwork, modality: Modality) -> torch.Tensor:
        views = self.outputs.of(modality)
        return stemmed_features(model, views["plain"], views["flip"], self.device)

    def plain_outputs(self, model: TwoStreamNetwork, modality: Modality) -> Outputs:
        return _stemmed_outputs(model, self.outputs.of(modality)["plain"], self.device)


@torch.no_grad()
def _stemmed_outputs(model: TwoStreamNetwork, maps: torch.Tensor, device: torch.device) -> Outputs:
    """Eval-mode (pooled, BN-neck) features [N, D] of stored stem outputs."""
    was_training = model.training
    model.eval()
    try:
        chunks = [
            model.pooled_and_neck(maps[start : start + STEMMED_EVAL_BATCH].float().to(device))
            for start in range(0, len(maps), STEMMED_EVAL_BATCH)
        ]
    finally:
        model.train(was_training)
    if not chunks:
        return torch.empty(0, model.feature_dim), torch.empty(0, model.feature_dim)
    return torch.cat([c[0] for c in chunks]).float().cpu(), torch.cat([c[1] for c in chunks]).float().cpu()


def stemmed_features(
    model: TwoStreamNetwork, plain: torch.Tensor, flip: torch.Tensor, device: torch.device
) -> torch.Tensor:
    """Flip-averaged, L2-normalised eval features from stored stem outputs of images and of their mirrors."""
    return F.normalize(_stemmed_outputs(model, plain, device)[1] + _stemmed_outputs(model, flip, device)[1], dim=1)


@dataclass(frozen=True)
class TrainingData:
    """The training images of a run and, for a backbone with frozen stems, their stored stem outputs."""

    images: TrainingImages
    stems: StemOutputs | None

    def count(self, modality: Modality) -> int:
        return len(self.images.of(modality))

    def inputs(self, pad: int, generator: torch.Generator, device: torch.device) -> NetworkInputs:
        """A stage's view of the data, augmenting with `generator` (pixel padding `pad` for pixel inputs)."""
        if self.stems is None:
            return PixelInputs(self.images, Augmenter(pad, generator), device)
        return StemmedInputs(self.stems, generator, device)


def prepare_training_data(
    model: TwoStreamNetwork, images: TrainingImages, cache_dir: Path, device: torch.device
) -> TrainingData:
    """For frozen stems (adapted already, see mmm.pipeline.run.start_network), the images with their stored stem
    outputs; otherwise the images alone."""
    if not model.frozen_stems:
        return TrainingData(images, None)
    return TrainingData(
        images,
        StemOutputs(
            encode_images(model, images.visible, Modality.VISIBLE, ("plain", "flip", "exchange"), cache_dir, device),
            encode_images(model, images.infrared, Modality.INFRARED, ("plain", "flip"), cache_dir, device),
        ),
    )
