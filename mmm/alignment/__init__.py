"""SCA: GMM confidence, confidence-weighted prototypes, L_intra and the multi-kernel MMD L_inter."""
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
    "batch_hard_triplet",
    "gmm_confidence",
    "gmm_confidence_views",
    "inter_loss",
    "intra_distances",
    "mmd",
    "sca_losses",
    "View",
    "weighted_prototypes",
]
