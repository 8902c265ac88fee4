"""Feature extraction for clustering and evaluation (flip average, L2 normalisation).

Exports are imported on first use (mmm.lazy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmm.lazy import lazy_exports

if TYPE_CHECKING:
    from mmm.features.extract import extract_features

__all__ = [
    "extract_features",
]

__getattr__, __dir__ = lazy_exports(__name__, __all__, ("mmm.features.extract",))
