"""Named backbone presets: what studies and profiles pick a backbone by, what `imagenet` means for each, and
`create_backbone` to build one."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from mmm.models.agw import TwoStreamAGW
from mmm.models.pretrained import WeightFile, resolve_pretrained
from mmm.models.two_stream import TwoStreamNetwork
from mmm.models.two_stream_mobilenet import TwoStreamMobileNet

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BackbonePreset:
    build: Callable[..., TwoStreamNetwork]
    settings: dict[str, Any] = field(default_factory=dict)
    imagenet: str | None = None  # family of its ImageNet weights (mmm.models.pretrained); None: there are none


BACKBONE_PRESETS: dict[str, BackbonePreset] = {
    # The paper's backbone (AGW ResNet-50), ImageNet-initialised from torchvision's ResNet-50 file.
    "agw_resnet50": BackbonePreset(TwoStreamAGW, {"depth": 50, "width": 1.0, "non_local": True}, "resnet50"),
    # Plain two-stream ResNet-50 (no non-local blocks), for ablating AGW's attention.
    "resnet50": BackbonePreset(TwoStreamAGW, {"depth": 50, "width": 1.0, "non_local": False}, "resnet50"),
    # The CPU profiles' ImageNet network: MobileNetV2 whose first 14 blocks are frozen per-modality stems (their
    # own BatchNorm statistics each) and whose last five blocks (the last stride-2 stage onwards) and head train, at
    # last stride 2. With only the last two blocks trainable, stage C on the true identities ended 5 R1 points
    # above the untrained floor; with five it ends more than 20 above (README, "room to learn").
    "mobilenet_v2": BackbonePreset(
        TwoStreamMobileNet, {"stem_blocks": 14, "frozen_stems": True, "last_stride": 2}, "mobilenet_v2"
    ),
    # The quick profile's network up to commit ea4ac3c (17 frozen blocks, the last two train): the narrow-window
    # point of the headroom curve.
    "mobilenet_v2_s17": BackbonePreset(
        TwoStreamMobileNet, {"stem_blocks": 17, "frozen_stems": True, "last_stride": 2}, "mobilenet_v2"
    ),
    # MobileNetV2 fine-tuned whole, with trainable two-block stems per modality, as two-stream re-ID nets are.
    "mobilenet_v2_full": BackbonePreset(TwoStreamMobileNet, {"stem_blocks": 2, "last_stride": 1}, "mobilenet_v2"),
    # A quarter-width ResNet-18 (no ImageNet weights exist for it): random-start runs and cheap tests.
    "resnet18_small": BackbonePreset(TwoStreamAGW, {"depth": 18, "width": 0.25, "non_local": False}),
    # The same small network with AGW's non-local blocks, for testing the full architecture cheaply.
    "agw_resnet18_small": BackbonePreset(TwoStreamAGW, {"depth": 18, "width": 0.25, "non_local": True}),
}


def list_backbones() -> list[str]:
    """Names accepted by create_backbone."""
    return sorted(BACKBONE_PRESETS)


def backbone_preset(name: str) -> BackbonePreset:
    if name not in BACKBONE_PRESETS:
        raise ValueError(f"unknown backbone {name!r}; valid names: {', '.join(list_backbones())}")
    return BACKBONE_PRESETS[name]


def create_backbone(name: str, pretrained: Path | str | None = None, **overrides: Any) -> TwoStreamNetwork:
    """The network of preset `name`, loaded strictly from the weight file `pretrained` if given; keyword
    arguments override the preset's settings."""
    preset = backbone_preset(name)
    settings = {**preset.settings, **overrides}
    log.debug("building backbone %s with %s", name, settings)
    return preset.build(pretrained=pretrained, **settings)


def build_backbone(name: str, pretrained: str, download: bool = True) -> tuple[TwoStreamNetwork, WeightFile | None]:
    """The starting network of a run: preset `name` with the weights a `pretrained` choice ("imagenet", "none"
    or a path) resolves to, and that verified file (None for a random start)."""
    weights = resolve_pretrained(pretrained, backbone_preset(name).imagenet, name, download=download)
    return create_backbone(name, pretrained=None if weights is None else weights.path), weights
