"""SCA's L_inter: per pseudo-identity, MMD^2 between its visible and infrared features, each side pulled in turn."""
from __future__ import annotations

import torch

from mmm.alignment.mmd import mmd


def inter_loss(
    features_v: torch.Tensor, features_r: torch.Tensor, labels_v: torch.Tensor, labels_r: torch.Tensor
) -> torch.Tensor:
    """Mean over identities p present in both modalities of 1/2 [MMD^2(F_p^v, sg F_p^r) + MMD^2(F_p^r, sg F_p^v)].

    All visible features of p in the batch form F_p^v (both views of a visible image, when the batch holds two).
    Negative labels are ignored. Zero, still attached to the graph, when no identity is in both modalities.
    """
    labels_v = labels_v.long()
    labels_r = labels_r.long()
    shared = torch.unique(labels_v[labels_v >= 0])
    shared = shared[torch.isin(shared, labels_r)]
    if len(shared) == 0:
        return features_v.sum() * 0.0 + features_r.sum() * 0.0
    terms = []
    for identity in shared:
        visible = features_v[labels_v == identity]
        infrared = features_r[labels_r == identity]
        terms.append(0.5 * (mmd(visible, infrared.detach()) + mmd(infrared, visible.detach())))
    return torch.stack(terms).mean()
