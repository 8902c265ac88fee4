"""SCA: GMM confidence, confidence-weighted prototypes, L_intra and the multi-kernel MMD L_inter."""
from mmm.alignment.confidence import gmm_confidence
from mmm.alignment.inter import inter_loss
from mmm.alignment.mmd import mmd
from mmm.alignment.prototypes import intra_loss, weighted_prototypes
from mmm.alignment.sca import SCAWeights, sca_losses
from mmm.alignment.triplet import batch_hard_triplet

__all__ = [
    "SCAWeights",
    "batch_hard_triplet",
    "gmm_confidence",
    "inter_loss",
    "intra_loss",
    "mmd",
    "sca_losses",
    "weighted_prototypes",
]
