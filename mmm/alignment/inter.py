"""SCA's L_inter: per pseudo-identity, MMD^2 between its visible and infrared features, each side pulled toward the
other (the other side detached).

Two forms:
- half_symmetric (paper): both visible views pooled, 1/2 [MMD^2(F_p^v, sg F_p^r) + MMD^2(F_p^r, sg F_p^v)];
- four_term (authors' release, main.py train()): each visible view separately against the infrared features, in
  both directions, the four terms summed without the 1/2.
Both average over the identities present in both modalities. Every identity of the batch is computed at once
(mmm.alignment.mmd.grouped_mmd), so nothing is read back from the device.
"""

from __future__ import annotations

import torch

from mmm.alignment.mmd import grouped_mmd, groups_holding_both
from mmm.alignment.views import View
from mmm.choices import INTER_FORMS, InterForm


def _both_directions(features: torch.Tensor, groups: torch.Tensor, visible: torch.Tensor) -> torch.Tensor:
    """Summed over the groups: MMD^2(F^v, sg F^r) + MMD^2(F^r, sg F^v). MMD^2 is symmetric in its two sets, so the
    two directions differ only in which side the gradient reaches."""
    side = visible.unsqueeze(1)
    toward_r = grouped_mmd(torch.where(side, features, features.detach()), groups, visible)
    toward_v = grouped_mmd(torch.where(side, features.detach(), features), groups, visible)
    return toward_r + toward_v


def batch_inter_loss(
    features: torch.Tensor,
    labels: torch.Tensor,
    visible: torch.Tensor,
    form: InterForm = "half_symmetric",
    views: torch.Tensor | None = None,
) -> torch.Tensor:
    """inter_loss on a batch's rows in any order: features [n, D], labels [n] (negative: ignored), visible [n]
    bool, views [n] (mmm.alignment.views.View; needed by four_term)."""
    if form not in INTER_FORMS:
        raise ValueError(f"unknown L_inter form {form!r}; valid: {', '.join(INTER_FORMS)}")
    if form == "four_term" and views is None:
        raise ValueError("the four_term L_inter needs the view of each visible row (views_v)")
    labels = labels.long()
    identities = groups_holding_both(labels, visible)
    if form == "half_symmetric":
        total = 0.5 * _both_directions(features, labels, visible)
    else:
        assert views is not None
        total = features.new_zeros(())
        for view in (View.VISIBLE_1, View.VISIBLE_2):
            # One group per identity: this view's visible rows against the identity's infrared rows.
            in_view = ~visible | (views.to(labels.device) == view)
            total = total + _both_directions(features, torch.where(in_view, labels, -1), visible)
    # With no identity in both modalities every term is zero, and the division keeps the graph attached.
    return total / identities.clamp_min(1)


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
    visible = torch.arange(len(features_v) + len(features_r), device=features_v.device) < len(features_v)
    views = None
    if views_v is not None:
        views = torch.cat([views_v.to(features_v.device), torch.full_like(labels_r, int(View.INFRARED))])
    return batch_inter_loss(torch.cat([features_v, features_r]), torch.cat([labels_v, labels_r]), visible, form, views)
