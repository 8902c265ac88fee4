"""SCA's L_inter: per pseudo-identity, MMD^2 between its visible and infrared features, each side pulled toward the
other (the other side detached).

Two forms:
- half_symmetric (paper): both visible views pooled, 1/2 [MMD^2(F_p^v, sg F_p^r) + MMD^2(F_p^r, sg F_p^v)];
- four_term (authors' release, main.py train()): each visible view separately against the infrared features, in
  both directions, the four terms summed without the 1/2.
Both average over the identities present in both modalities.
"""

from __future__ import annotations

import torch

from mmm.alignment.mmd import mmd
from mmm.choices import INTER_FORMS, InterForm


def _both_directions(visible: torch.Tensor, infrared: torch.Tensor) -> torch.Tensor:
    return mmd(visible, infrared.detach()) + mmd(infrared, visible.detach())


def inter_loss(
    features_v: torch.Tensor,
    features_r: torch.Tensor,
    labels_v: torch.Tensor,
    labels_r: torch.Tensor,
    form: InterForm = "half_symmetric",
    views_v: torch.Tensor | None = None,
) -> torch.Tensor:
    """Mean over identities p present in both modalities of the form's terms.

    features_v hold every visible row of the batch; views_v (needed by four_term) says which visible view each row
    is (mmm.alignment.views.View). Negative labels are ignored. Zero, still attached to the graph, when no
    identity is in both modalities.
    """
    if form not in INTER_FORMS:
        raise ValueError(f"unknown L_inter form {form!r}; valid: {', '.join(INTER_FORMS)}")
    if form == "four_term" and views_v is None:
        raise ValueError("the four_term L_inter needs the view of each visible row (views_v)")
    views = views_v if views_v is not None else labels_v.new_zeros(labels_v.shape)
    labels_v = labels_v.long()
    labels_r = labels_r.long()
    shared = torch.unique(labels_v[labels_v >= 0])
    shared = shared[torch.isin(shared, labels_r)]
    if len(shared) == 0:
        return features_v.sum() * 0.0 + features_r.sum() * 0.0
    terms = []
    for identity in shared:
        infrared = features_r[labels_r == identity]
        mine = labels_v == identity
        if form == "half_symmetric":
            terms.append(0.5 * _both_directions(features_v[mine], infrared))
        else:
            per_view = [
                _both_directions(features_v[mine & (views == view)], infrared) for view in torch.unique(views[mine])
            ]
            terms.append(torch.stack(per_view).sum())
    return torch.stack(terms).mean()
