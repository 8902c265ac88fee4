"""How training images reach the network: augmented pixels through trainable stems, or, for a backbone whose
stems are frozen, the stems' stored outputs (mmm.pipeline.stem_encoding) through the shared blocks alone.

Every stage asks a NetworkInputs for the same three things: the network's outputs on a training batch (visible
rows in two views, then infrared rows), flip-averaged eval features of every training image (clustering,
MMLM), and eval (pooled, BN-neck) features of the un-augmented images (stage C's confidences and prototypes).

A training batch is prepared in two halves. On the host, in the order batches are used: every random draw of its
augmentation (the generator's stream is the same on every device) and the gathering of its uint8 rows (or stored
stem outputs). On the run's device: the augmentation itself, normalisation and the forward pass, in the run's
precision and layout (mmm.models.numerics). `stream` prepares each batch while the previous one trains; on CUDA
the rows are gathered into pinned memory by a worker thread and copied without blocking (mmm.host_to_device).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from mmm.data.records import Modality
from mmm.data.transforms import apply_views, draw_view, eval_transform
from mmm.features.extract import extract_features, image_batches
from mmm.host_to_device import Allocate, BatchLoader, Gather, one_ahead
from mmm.models.numerics import ForwardNumerics
from mmm.models.two_stream import TwoStreamNetwork
from mmm.pipeline.stem_encoding import encode_images
from mmm.pipeline.training_images import TrainingImages

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


@dataclass(frozen=True)
class PreparedBatch:
    """A training batch whose random draws are made and whose rows are on their way to the device."""

    index_v: np.ndarray
    index_r: np.ndarray
    pending: Future  # the loader's gathered tensors (mmm.host_to_device.BatchLoader.start)


def _rows(images: np.ndarray, index: np.ndarray, allocate: Allocate) -> torch.Tensor:
    """Rows `index` of an [N, H, W, 3] uint8 array, gathered straight into a tensor from `allocate`."""
    out = allocate((len(index), *images.shape[1:]), torch.uint8)
    np.take(images, index, axis=0, out=out.numpy())
    return out


def _host_copy(tensor: torch.Tensor, allocate: Allocate) -> torch.Tensor:
    return allocate(tuple(tensor.shape), tensor.dtype).copy_(tensor)


class NetworkInputs(ABC):
    def __init__(self, numerics: ForwardNumerics) -> None:
        self.numerics = numerics
        self.loader = BatchLoader(numerics.device)

    @abstractmethod
    def prepare(self, index_v: np.ndarray, index_r: np.ndarray) -> PreparedBatch:
        """Make the batch's random draws now and start loading its rows: visible rows `index_v` in two views, then
        infrared rows `index_r`."""

    @abstractmethod
    def _forward(self, model: TwoStreamNetwork, tensors: list[torch.Tensor], batch: PreparedBatch) -> Outputs:
        """The batch's augmentation on the device and the model's train-mode pass over it."""

    @abstractmethod
    def features(self, model: TwoStreamNetwork, modality: Modality) -> torch.Tensor:
        """[N, D] eval BN-neck features of every training image of `modality`, flip-averaged, L2-normalised."""

    @abstractmethod
    def plain_outputs(self, model: TwoStreamNetwork, modality: Modality) -> Outputs:
        """Eval-mode (pooled, BN-neck) features [N, D] of the un-augmented training images of `modality`."""

    def forward_prepared(self, model: TwoStreamNetwork, batch: PreparedBatch) -> Outputs:
        """Train-mode outputs on a prepared batch."""
        return self._forward(model, self.loader.take(batch.pending), batch)

    def forward_batch(self, model: TwoStreamNetwork, index_v: np.ndarray, index_r: np.ndarray) -> Outputs:
        """Train-mode outputs on the augmented batch: visible rows `index_v` in two views, then infrared rows."""
        return self.forward_prepared(model, self.prepare(index_v, index_r))

    def stream(self, batches: Iterable[tuple[np.ndarray, np.ndarray]]) -> Iterator[PreparedBatch]:
        """The batches (index_v, index_r) prepared in order, each one started before the previous is handed out.
        Give every batch that draws from this input's generator, in the order they train, so the draws come in
        the same order on every device."""
        return one_ahead(batches, lambda batch: self.prepare(*batch))


class PixelInputs(NetworkInputs):
    """Augmented pixels (docs/design.md §1.8: pad-crop, flip, erasing; channel exchange for the second visible view,
    adaptive gray for infrared) through the model's own stems."""

    def __init__(self, images: TrainingImages, pad: int, generator: torch.Generator, numerics: ForwardNumerics) -> None:
        super().__init__(numerics)
        self.images = images
        self.pad = pad
        self.generator = generator

    def prepare(self, index_v: np.ndarray, index_r: np.ndarray) -> PreparedBatch:
        _, h, w, _ = self.images.visible.shape
        nv, nr = len(index_v), len(index_r)
        plan = torch.cat(
            [
                draw_view(self.generator, nv, h, w, self.pad, "none"),
                draw_view(self.generator, nv, h, w, self.pad, "exchange"),
                draw_view(self.generator, nr, h, w, self.pad, "adaptive_gray"),
            ],
            dim=1,
        )

        def gather(allocate: Allocate) -> list[torch.Tensor]:
            return [
                _rows(self.images.visible, index_v, allocate),
                _rows(self.images.infrared, index_r, allocate),
                _host_copy(plan, allocate),
            ]

        return PreparedBatch(index_v, index_r, self.loader.start(gather))

    def _forward(self, model: TwoStreamNetwork, tensors: list[torch.Tensor], batch: PreparedBatch) -> Outputs:
        visible, infrared, plan = tensors
        pixels = torch.cat([visible, visible, infrared]).permute(0, 3, 1, 2)
        views = self.numerics.layout(apply_views(pixels, plan, self.pad))
        split = 2 * len(batch.index_v)
        with self.numerics.autocast():
            return _train_outputs(model.forward_visible_infrared(views[:split], views[split:]))

    def features(self, model: TwoStreamNetwork, modality: Modality) -> torch.Tensor:
        return extract_features(
            model,
            self.images.of(modality),
            modality,
            device=self.numerics.device,
            precision=self.numerics.precision,
        )

    @torch.no_grad()
    def plain_outputs(self, model: TwoStreamNetwork, modality: Modality) -> Outputs:
        was_training = model.training
        model.eval()
        chunks = []
        try:
            for batch in image_batches(self.images.of(modality), EVAL_BATCH, self.loader):
                x = self.numerics.layout(eval_transform(batch.permute(0, 3, 1, 2)))
                with self.numerics.autocast():
                    chunks.append(model.pooled_and_neck(model.stem(x, modality)))
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


def draw_map_erasing(generator: torch.Generator, b: int, h: int, w: int) -> torch.Tensor:
    """Random erasing of stem outputs [B, C, h, w], drawn on the generator's device: with ERASE_PROB per sample, one
    rectangle of ERASE_AREA of the map (aspect 0.3..3.3, at least one cell). [4, B]: top, bottom, left, right
    (empty for a sample left as it is)."""
    apply = torch.rand(b, generator=generator) < ERASE_PROB
    area = ERASE_AREA[0] + (ERASE_AREA[1] - ERASE_AREA[0]) * torch.rand(b, generator=generator)
    aspect = 0.3 + (1 / 0.3 - 0.3) * torch.rand(b, generator=generator)
    eh = torch.sqrt(area * h * w * aspect).round().clamp(1, h).long()
    ew = torch.sqrt(area * h * w / aspect).round().clamp(1, w).long()
    top = (torch.rand(b, generator=generator) * (h - eh + 1)).long()
    left = (torch.rand(b, generator=generator) * (w - ew + 1)).long()
    return torch.stack([top, torch.where(apply, top + eh, top), left, left + ew])


def erase_maps(maps: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """Stem outputs [B, C, h, w] with each sample's rectangle (box [4, B] from draw_map_erasing, on the maps'
    device) set to zero."""
    _, _, h, w = maps.shape
    ys = torch.arange(h, device=maps.device).view(1, h, 1)
    xs = torch.arange(w, device=maps.device).view(1, 1, w)
    inside = (
        (ys >= box[0].view(-1, 1, 1))
        & (ys < box[1].view(-1, 1, 1))
        & (xs >= box[2].view(-1, 1, 1))
        & (xs < box[3].view(-1, 1, 1))
    )
    return maps.masked_fill(inside[:, None], 0.0)


def _stem_rows(views: dict[str, torch.Tensor], index: np.ndarray, mirror: torch.Tensor, out: torch.Tensor) -> None:
    """The stored output of each row's image, or of its mirror image where `mirror`, written into `out`."""
    rows = torch.from_numpy(index)
    torch.index_select(views["plain"], 0, rows, out=out)
    flipped = torch.nonzero(mirror).flatten()
    out[flipped] = views["flip"][rows[flipped]]


class StemmedInputs(NetworkInputs):
    """Stored stem outputs through the shared blocks: the training flip picks the mirrored image's output, the
    second visible view is the stored exchange view, and erasing acts on the outputs."""

    def __init__(self, outputs: StemOutputs, generator: torch.Generator, numerics: ForwardNumerics) -> None:
        super().__init__(numerics)
        self.outputs = outputs
        self.generator = generator

    def prepare(self, index_v: np.ndarray, index_r: np.ndarray) -> PreparedBatch:
        nv, nr = len(index_v), len(index_r)
        mirror_v = torch.rand(nv, generator=self.generator) < 0.5
        mirror_r = torch.rand(nr, generator=self.generator) < 0.5
        plain = self.outputs.visible["plain"]
        box = draw_map_erasing(self.generator, 2 * nv + nr, plain.shape[2], plain.shape[3])

        def gather(allocate: Allocate) -> list[torch.Tensor]:
            maps = allocate((2 * nv + nr, *plain.shape[1:]), plain.dtype)
            _stem_rows(self.outputs.visible, index_v, mirror_v, maps[:nv])
            torch.index_select(self.outputs.visible["exchange"], 0, torch.from_numpy(index_v), out=maps[nv : 2 * nv])
            _stem_rows(self.outputs.infrared, index_r, mirror_r, maps[2 * nv :])
            return [maps, _host_copy(box, allocate)]

        return PreparedBatch(index_v, index_r, self.loader.start(gather))

    def _forward(self, model: TwoStreamNetwork, tensors: list[torch.Tensor], batch: PreparedBatch) -> Outputs:
        maps, box = tensors
        erased = self.numerics.layout(erase_maps(maps.float(), box))
        with self.numerics.autocast():
            return _train_outputs(model.forward_stemmed(erased))

    def features(self, model: TwoStreamNetwork, modality: Modality) -> torch.Tensor:
        views = self.outputs.of(modality)
        return stemmed_features(model, views["plain"], views["flip"], self.numerics)

    def plain_outputs(self, model: TwoStreamNetwork, modality: Modality) -> Outputs:
        return _stemmed_outputs(model, self.outputs.of(modality)["plain"], self.numerics)


@torch.no_grad()
def _stemmed_outputs(model: TwoStreamNetwork, maps: torch.Tensor, numerics: ForwardNumerics) -> Outputs:
    """Eval-mode (pooled, BN-neck) features [N, D] of stored stem outputs."""

    def chunk(start: int) -> Gather:
        return lambda allocate: [_host_copy(maps[start : start + STEMMED_EVAL_BATCH], allocate)]

    was_training = model.training
    model.eval()
    chunks = []
    try:
        loader = BatchLoader(numerics.device)
        for (batch,) in loader.ahead(chunk(start) for start in range(0, len(maps), STEMMED_EVAL_BATCH)):
            with numerics.autocast():
                chunks.append(model.pooled_and_neck(numerics.layout(batch.float())))
    finally:
        model.train(was_training)
    if not chunks:
        return torch.empty(0, model.feature_dim), torch.empty(0, model.feature_dim)
    return torch.cat([c[0] for c in chunks]).float().cpu(), torch.cat([c[1] for c in chunks]).float().cpu()


def stemmed_features(
    model: TwoStreamNetwork, plain: torch.Tensor, flip: torch.Tensor | None, numerics: ForwardNumerics
) -> torch.Tensor:
    """L2-normalised eval features from stored stem outputs of images, averaged with those of their mirrors when
    `flip` holds them (one view when it is None)."""
    features = _stemmed_outputs(model, plain, numerics)[1]
    if flip is not None:
        features = features + _stemmed_outputs(model, flip, numerics)[1]
    return F.normalize(features, dim=1)


@dataclass(frozen=True)
class TrainingData:
    """The training images of a run and, for a backbone with frozen stems, their stored stem outputs."""

    images: TrainingImages
    stems: StemOutputs | None

    def count(self, modality: Modality) -> int:
        return len(self.images.of(modality))

    def inputs(self, pad: int, generator: torch.Generator, numerics: ForwardNumerics) -> NetworkInputs:
        """A stage's view of the data, augmenting with `generator` (pixel padding `pad` for pixel inputs)."""
        if self.stems is None:
            return PixelInputs(self.images, pad, generator, numerics)
        return StemmedInputs(self.stems, generator, numerics)


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
