"""The network a run starts from, its test-time featurizer, and a digest of its weights."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from mmm.data.image_store import load_images
from mmm.data.records import ImageRecord, Modality
from mmm.features.extract import extract_features
from mmm.models.factory import build_backbone
from mmm.models.numerics import ForwardNumerics, configure_device
from mmm.models.pretrained import WeightFile
from mmm.models.two_stream import TwoStreamNetwork
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.network_inputs import stemmed_features
from mmm.pipeline.stem_encoding import adapt_stems, encode_images
from mmm.pipeline.tasks import Featurize
from mmm.pipeline.training_images import TrainingImages


def start_network(
    config: PipelineConfig, images: TrainingImages, cache_dir: Path, device: torch.device
) -> tuple[TwoStreamNetwork, WeightFile | None]:
    """The network every method starts from: the config's backbone and starting weights (seeded), its frozen
    stems, if any, given each modality's BatchNorm statistics from the training images (no labels read)."""
    # Every method starts here, so the device's settings (determinism, autotuning) are set here too.
    configure_device(device, config.deterministic)
    torch.manual_seed(config.seed)
    model, weights = build_backbone(config.backbone, config.pretrained)
    # The weights in the layout the inputs take on this device (mmm.models.numerics).
    memory_format = ForwardNumerics.of(device, config.precision).memory_format
    model = model.to(device).to(memory_format=memory_format)  # type: ignore[call-overload]
    if model.frozen_stems:
        adapt_stems(model, images.visible, images.infrared, cache_dir, device)
    return model, weights


def make_featurize(model: TwoStreamNetwork, config: PipelineConfig, cache_dir: Path, device: torch.device) -> Featurize:
    """Test-time features of records (through the stem of their modality), flip-averaged unless the config says
    one view (config.eval_flip), L2-normalised, as numpy. Frozen stems encode each test image once; later
    evaluations read their stored outputs."""
    flip = config.eval_flip
    views_needed = ("plain", "flip") if flip else ("plain",)
    numerics = ForwardNumerics.of(device, config.precision)

    def featurize(records: Sequence[ImageRecord], modality: Modality) -> np.ndarray:
        images = load_images([r.path for r in records], config.height, config.width, cache_dir)
        if model.frozen_stems:
            views = encode_images(model, images, modality, views_needed, cache_dir, device)
            return stemmed_features(model, views["plain"], views.get("flip"), numerics).numpy()
        return extract_features(model, images, modality, device=device, precision=numerics.precision, flip=flip).numpy()

    return featurize


def state_digest(model: torch.nn.Module) -> str:
    """sha256 over the model's state dict (names and raw bytes, in order)."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()
