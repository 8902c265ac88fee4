"""Ground-truth diagnostics (ARI, matching accuracy, view separation). Called by the harness only.

Exports are imported on first use (mmm.lazy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmm.lazy import lazy_exports

if TYPE_CHECKING:
    from mmm.diagnostics.pseudo_labels import ari_with_outliers, majority_identity, make_diagnose, matching_accuracy

__all__ = [
    "ari_with_outliers",
    "majority_identity",
    "make_diagnose",
    "matching_accuracy",
]

__getattr__, __dir__ = lazy_exports(__name__, __all__, ("mmm.diagnostics.pseudo_labels",))
