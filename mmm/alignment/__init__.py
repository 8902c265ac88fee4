"""SCA: GMM confidence, confidence-weighted prototypes, L_intra and the multi-kernel MMD L_inter.

Exports are imported on first use (mmm.lazy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmm.lazy import lazy_exports

if TYPE_CHECKING:
    from mmm.alignment.confidence import gmm_confidence, gmm_confidence_views
    from mmm.alignment.inter import inter_loss
    from mmm.alignment.mmd import mmd
    from mmm.alignment.prototypes import intra_distances, weighted_prototypes
    from mmm.alignment.sca import SCAForm, SCAWeights, sca_losses
    from mmm.alignment.triplet import batch_hard_triplet
    from mmm.alignment.views import View

__all__ = [
    "SCAForm",
    "SCAWeights",
    "View",
    "batch_hard_triplet",
    "gmm_confidence",
    "gmm_confidence_views",
    "inter_loss",
    "intra_distances",
    "mmd",
    "sca_losses",
    "weighted_prototypes",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    __all__,
    (
        "mmm.alignment.mmd",
        "mmm.alignment.views",
        "mmm.alignment.confidence",
        "mmm.alignment.triplet",
        "mmm.alignment.prototypes",
        "mmm.alignment.inter",
        "mmm.alignment.sca",
    ),
)
