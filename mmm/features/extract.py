"""Features for clustering and evaluation: eval-mode BN-neck feature, flip-averaged and L2-normalised."""

from __future__ import annotations

import logging

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mmm.data.records import Modality
from mmm.data.transforms import eval_transform

logger = logging.getLogger(__name__)


def _check_images(images: np.ndarray | torch.Tensor) -> None:
    dtype_ok = images.dtype == (np.uint8 if isinstance(images, np.ndarray) else torch.uint8)
    if not dtype_ok or images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(
            f"images must be uint8 of shape [N, H, W, 3], got {images.dtype} of shape {tuple(images.shape)}"
        )


def _batch_on_device(images: np.ndarray | torch.Tensor, start: int, stop: int, device: torch.device) -> torch.Tensor:
    """Rows start:stop as a normalised float [B, 3, H, W] batch on `device`."""
    chunk = images[start:stop]
    # Copying one batch at a time keeps a memory-mapped (read-only) image cache out of RAM as a whole.
    tensor = torch.from_numpy(np.array(chunk)) if isinstance(chunk, np.ndarray) else chunk
    return eval_transform(tensor.to(device).permute(0, 3, 1, 2))


def extract_features(
    model: nn.Module,
    images: np.ndarray | torch.Tensor,
    modality: Modality,
    batch_size: int = 128,
    device: torch.device = torch.device("cpu"),
) -> torch.Tensor:
    """[N, D] float32 CPU features of `images` (uint8 [N, H, W, 3], already at the model's input size).

    `model` must already sit on `device` and return its BN-neck feature in eval mode when called as
    model(x, modality); its train/eval mode is restored afterwards.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    _check_images(images)
    was_training = model.training
    model.eval()
    chunks = []
    try:
        # no_grad rather than inference_mode: the features seed memories that later take part in autograd,
        # which inference tensors may not.
        with torch.no_grad():
            for start in range(0, len(images), batch_size):
                x = _batch_on_device(images, start, start + batch_size, device)
                feature = (model(x, modality) + model(torch.flip(x, dims=[3]), modality)) / 2
                chunks.append(F.normalize(feature.float(), dim=1).cpu())
    finally:
        model.train(was_training)
    if not chunks:
        return torch.empty(0, getattr(model, "feature_dim", 0), dtype=torch.float32)
    logger.debug("extracted %d %s features", len(images), Modality(modality).name.lower())
    return torch.cat(chunks)
