"""The three views of a stage-C batch: each visible image appears twice (view 1 and the channel-exchanged view 2),
each infrared image once. Losses, confidences and prototypes are kept per view."""

from __future__ import annotations

from enum import IntEnum

import torch


class View(IntEnum):
    VISIBLE_1 = 0
    VISIBLE_2 = 1
    INFRARED = 2


def is_visible(views: torch.Tensor) -> torch.Tensor:
    """Boolean mask of the visible rows of a per-row view tensor."""
    return views != View.INFRARED


def batch_views(visible_rows: int, infrared_rows: int, device: torch.device | None = None) -> torch.Tensor:
    """The view of each row of a batch laid out as [visible view 1; visible view 2; infrared]."""
    # Made where it is used: nothing is copied from the host.
    return torch.cat(
        [
            torch.full((visible_rows,), int(View.VISIBLE_1), device=device),
            torch.full((visible_rows,), int(View.VISIBLE_2), device=device),
            torch.full((infrared_rows,), int(View.INFRARED), device=device),
        ]
    )
