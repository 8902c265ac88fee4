"""Frozen stems, prepared once: their BatchNorm statistics measured per modality on the training images, and
their outputs for every image and view computed once and kept on disk.

A frozen stem's output depends on the image alone, so training and feature extraction run only the shared
blocks on these stored outputs. For the CPU backbone (MobileNetV2 with 14 frozen blocks) that is where most of
the network's cost lies. Both steps read no labels.

Views of an image: `plain`; `flip` (mirrored, as test-time flip averaging and the training flip need, since a
mirrored image does not give a mirrored stem output); `exchange`, the second visible view of docs/design.md §1.8 (one
RGB channel copied to all three), here with its channel and a mirror drawn once per image from a fixed seed,
so the stored view is the same for every run.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch

from mmm.data.records import Modality
from mmm.data.transforms import eval_transform
from mmm.models.batchnorm import adapt_batchnorm
from mmm.models.two_stream import TwoStreamNetwork

log = logging.getLogger(__name__)

VIEWS = ("plain", "flip", "exchange")
# Bump when the encoding (views, dtype, layout) changes, so stored outputs of older code are not read.
ENCODING_VERSION = 1
# Images per batch when measuring statistics: every batch counts the same in the average, so they are equal.
STATISTICS_BATCH = 128
# At most this many images per modality, evenly spread over the split, give the stem its statistics.
STATISTICS_IMAGES = 1024
ENCODE_BATCH = 64
# The exchange view's channels and mirrors come from this seed, whatever the run's seed.
EXCHANGE_SEED = 20240106


def _normalised(images: np.ndarray, rows: np.ndarray) -> torch.Tensor:
    # Channels-last: the depthwise convolutions of MobileNetV2 run several times faster in it on CPUs.
    batch = eval_transform(torch.from_numpy(np.ascontiguousarray(images[rows])).permute(0, 3, 1, 2))
    return batch.contiguous(memory_format=torch.channels_last)


def _image_batches(images: np.ndarray, rows: np.ndarray, batch: int) -> Iterator[torch.Tensor]:
    for start in range(0, len(rows), batch):
        yield _normalised(images, rows[start : start + batch])


def adapt_stems(
    model: TwoStreamNetwork, visible: np.ndarray, infrared: np.ndarray, cache_dir: Path, device: torch.device
) -> None:
    """Give each frozen stem the BatchNorm statistics of its own modality's training images (uint8 [N,H,W,3]),
    read from `cache_dir` when an earlier run measured them for these stems and images."""
    for modality, images in ((Modality.VISIBLE, visible), (Modality.INFRARED, infrared)):
        stem = model.stem_of(modality)
        key = hashlib.sha256(
            f"{ENCODING_VERSION}|{STATISTICS_IMAGES}|{STATISTICS_BATCH}|{_stem_digest(model, modality)}|"
            f"{_images_digest(images)}|{device.type}".encode()
        ).hexdigest()[:24]
        path = cache_dir / f"stem-statistics-{key}.pt"
        state = _load_state(path)
        if state is not None:
            stem.load_state_dict(state)
            stem.eval()
            continue
        count = min(len(images), STATISTICS_IMAGES)
        rows = np.linspace(0, len(images) - 1, count).round().astype(np.int64)
        # Only whole batches, so each counts the same (a split smaller than one batch is one batch).
        usable = count - count % STATISTICS_BATCH if count >= STATISTICS_BATCH else count
        batches = (batch.to(device) for batch in _image_batches(images, rows[:usable], STATISTICS_BATCH))
        seen = adapt_batchnorm(stem, batches)
        log.info("%s stem statistics measured on %d images", modality.name.lower(), seen)
        cache_dir.mkdir(parents=True, exist_ok=True)
        state = {name: tensor.cpu() for name, tensor in stem.state_dict().items()}
        _store(path, lambda out: torch.save(state, out), "stem statistics")


def _load_state(path: Path) -> dict[str, torch.Tensor] | None:
    if not path.exists():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a damaged file of any kind is measured again
        log.warning("stem statistics %s are unreadable (%s); measuring them again", path, error)
        return None


def _exchange(batch: torch.Tensor, rows: np.ndarray) -> torch.Tensor:
    """The exchange view of normalised images at split rows `rows`: channel and mirror drawn per row."""
    draws = np.random.default_rng(EXCHANGE_SEED).integers(0, 6, size=int(rows.max()) + 1)[rows]
    channel = torch.from_numpy(draws % 3)
    mirror = torch.from_numpy(draws >= 3).view(-1, 1, 1, 1)
    single = batch[torch.arange(len(batch)), channel].unsqueeze(1).expand(-1, 3, -1, -1)
    return torch.where(mirror, single.flip(3), single)


def _view(batch: torch.Tensor, view: str, rows: np.ndarray) -> torch.Tensor:
    if view == "plain":
        return batch
    if view == "flip":
        return batch.flip(3)
    return _exchange(batch, rows)


def _stem_digest(model: TwoStreamNetwork, modality: Modality) -> str:
    digest = hashlib.sha256()
    for name, tensor in model.stem_of(modality).state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def _images_digest(images: np.ndarray) -> str:
    digest = hashlib.sha256(str(images.shape).encode())
    for start in range(0, len(images), 1024):
        digest.update(np.ascontiguousarray(images[start : start + 1024]).tobytes())
    return digest.hexdigest()


def _store(path: Path, write: Callable[[BinaryIO], None], what: str) -> None:
    """Write a cache file atomically; a cache that cannot be written is a warning, never a failed run."""
    try:
        handle, partial = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)
    except OSError as error:
        log.warning("could not store %s in %s (%s); they will be computed again next time", what, path, error)
        return
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
        os.replace(partial, path)
    except OSError as error:
        Path(partial).unlink(missing_ok=True)
        log.warning("could not store %s in %s (%s); they will be computed again next time", what, path, error)


def _load(path: Path) -> np.ndarray | None:
    try:
        return np.load(path)
    except (OSError, ValueError) as error:
        log.warning("stem outputs %s are unreadable (%s); computing them again", path, error)
        return None


@torch.inference_mode()
def _encode(
    model: TwoStreamNetwork, images: np.ndarray, modality: Modality, view: str, device: torch.device
) -> np.ndarray:
    stem = model.stem_of(modality)
    chunks = []
    for start in range(0, len(images), ENCODE_BATCH):
        rows = np.arange(start, min(start + ENCODE_BATCH, len(images)))
        batch = _view(_normalised(images, rows), view, rows).contiguous(memory_format=torch.channels_last)
        batch = batch.to(device)
        chunks.append(stem(batch).to(torch.float16).contiguous().cpu())
    return torch.cat(chunks).numpy()


def encode_images(
    model: TwoStreamNetwork,
    images: np.ndarray,
    modality: Modality,
    views: Sequence[str],
    cache_dir: Path,
    device: torch.device,
) -> dict[str, torch.Tensor]:
    """Stem outputs (float16 [N, C, h, w]) of uint8 images [N, H, W, 3] through the frozen stem of `modality`,
    per view, read from `cache_dir` when an earlier run stored them for this stem, these images and this kind of
    device (the stems run in float32 on every device, but not with the same arithmetic)."""
    unknown = sorted(set(views) - set(VIEWS))
    if unknown:
        raise ValueError(f"unknown stem views {unknown}; valid: {list(VIEWS)}")
    if not model.frozen_stems:
        raise ValueError("stem outputs are stored only for frozen stems; this backbone trains its stems")
    key = hashlib.sha256(
        f"{ENCODING_VERSION}|{_stem_digest(model, modality)}|{_images_digest(images)}|{device.type}".encode()
    ).hexdigest()[:24]
    cache_dir.mkdir(parents=True, exist_ok=True)
    encoded = {}
    for view in views:
        path = cache_dir / f"stems-{len(images)}-{key}-{view}.npy"
        array = _load(path) if path.exists() else None
        if array is None:
            log.info(
                "encoding %d %s images (%s view) through the frozen stem", len(images), modality.name.lower(), view
            )
            array = _encode(model, images, modality, view, device)
            _store(path, lambda out: np.save(out, array), "stem outputs")
        encoded[view] = torch.from_numpy(array)
    return encoded
