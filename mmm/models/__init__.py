"""Backbones: the two-stream AGW (ResNet) and MobileNetV2 networks, their named presets and starting weights.

Exports are imported on first use (mmm.lazy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmm.lazy import lazy_exports

if TYPE_CHECKING:
    from mmm.models.agw import TwoStreamAGW
    from mmm.models.factory import build_backbone, create_backbone, list_backbones
    from mmm.models.pretrained import PretrainedError, WeightFile, resolve_pretrained
    from mmm.models.two_stream import TwoStreamNetwork
    from mmm.models.two_stream_mobilenet import TwoStreamMobileNet
    from mmm.models.weights import WeightFileError, load_weights

__all__ = [
    "PretrainedError",
    "TwoStreamAGW",
    "TwoStreamMobileNet",
    "TwoStreamNetwork",
    "WeightFile",
    "WeightFileError",
    "build_backbone",
    "create_backbone",
    "list_backbones",
    "load_weights",
    "resolve_pretrained",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    __all__,
    (
        "mmm.models.pretrained",
        "mmm.models.weights",
        "mmm.models.two_stream",
        "mmm.models.agw",
        "mmm.models.two_stream_mobilenet",
        "mmm.models.factory",
    ),
)
