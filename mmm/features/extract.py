"""Features for clustering and evaluation: eval-mode BN-neck feature, flip-averaged (evaluation may take one view)
and L2-normalised."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmm.choices import Precision
from mmm.data.records import Modality
from mmm.data.transforms import eval_transform
from mmm.host_to_device import Allocate, BatchLoader, Gather
from mmm.models.numerics import ForwardNumerics

logger = logging.getLogger(__name__)


def _check_images(images: np.ndarray | torch.Tensor) -> None:
    dtype_ok = images.dtype == (np.uint8 if isinstance(images, np.ndarray) else torch.uint8)
    if not dtype_ok or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(
            f"images must be uint8 of shape [N, H, W, 3], got {images.dtype} of shape {tuple(images.shape)}"
        )


def image_batches(images: np.ndarray | torch.Tensor, batch_size: int, loader: BatchLoader) -> Iterator[torch.Tensor]:
    """Consecutive uint8 [B, H, W, 3] batches of `images` on the loader's device, each loaded while the previous
    one is used. One batch at a time is copied, so a memory-mapped (read-only) image cache never enters RAM whole."""

    def rows(start: int) -> Gather:
        def gather(allocate: Allocate) -> list[torch.Tensor]:
            chunk = images[start : start + batch_size]
            out = allocate(tuple(chunk.shape), torch.uint8)
            if isinstance(chunk, np.ndarray):
                out.numpy()[...] = chunk  # numpy copies any strides and reads read-only arrays
            else:
                out.copy_(chunk)
            return [out]

        return gather

    for (batch,) in loader.ahead(rows(start) for start in range(0, len(images), batch_size)):
        yield batch


def extract_features(
    model: nn.Module,
    images: np.ndarray | torch.Tensor,
    modality: Modality,
    batch_size: int = 128,
    device: torch.device = torch.device("cpu"),
    precision: Precision = "fp32",
    flip: bool = True,
) -> torch.Tensor:
    """[N, D] float32 CPU features of `images` (uint8 [N, H, W, 3], already at the model's input size).

    `model` must already sit on `device` and return its BN-neck feature in eval mode when called as
    model(x, modality); its train/eval mode is restored afterwards. `precision` is the forward's
    (mmm.models.numerics). `flip` averages each image's feature with its mirror's; without it each image is seen
    once.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    _check_images(images)
    numerics = ForwardNumerics(device, precision)
    was_training = model.training
    model.eval()
    chunks = []
    try:
        # no_grad rather than inference_mode: the features seed memories that later take part in autograd,
        # which inference tensors may not.
        with torch.no_grad():
            for batch in image_batches(images, batch_size, BatchLoader(device)):
                x = numerics.layout(eval_transform(batch.permute(0, 3, 1, 2)))
                with numerics.autocast():
                    feature = model(x, modality)
                    if flip:
                        feature = (feature + model(torch.flip(x, dims=[3]), modality)) / 2
                chunks.append(F.normalize(feature.float(), dim=1).cpu())
    finally:
        model.train(was_training)
    if not chunks:
        return torch.empty(0, getattr(model, "feature_dim", 0), dtype=torch.float32)
    logger.debug("extracted %d %s features", len(images), Modality(modality).name.lower())
    return torch.cat(chunks)
