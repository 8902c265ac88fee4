"""Ground-truth diagnostics (ARI, matching accuracy, view separation) and the one door to the training identities
(mmm.diagnostics.identities). Called by the harness and the identity-label references only.

Exports are imported on first use (mmm.lazy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmm.lazy import lazy_exports

if TYPE_CHECKING:
    from mmm.diagnostics.identities import TrainingIdentities, training_identities
    from mmm.diagnostics.pseudo_labels import ari_with_outliers, majority_identity, make_diagnose, matching_accuracy

__all__ = [
    "TrainingIdentities",
    "ari_with_outliers",
    "majority_identity",
    "make_diagnose",
    "matching_accuracy",
    "training_identities",
]

__getattr__, __dir__ = lazy_exports(__name__, __all__, ("mmm.diagnostics.identities", "mmm.diagnostics.pseudo_labels"))
