"""The queue's own marks on each Optuna trial (user attributes prefixed "harness.") and how it reads them back.

What a run produced (cell, params, metrics, ...) is recorded by harness.records; these keys say only who claimed
which cell, whether the claim is alive, won or lost, and why an attempt failed.
"""

from __future__ import annotations

from optuna.trial import FrozenTrial

CLAIM = "harness.claim"
HEARTBEAT = "harness.heartbeat"
WON = "harness.won"
LOST = "harness.lost"
ERROR = "harness.error"


def cell_id_of(trial: FrozenTrial) -> str | None:
    """The cell a trial claimed, or None for a trial the harness did not make (or has not labelled yet)."""
    claim = trial.user_attrs.get(CLAIM)
    return claim.get("cell") if isinstance(claim, dict) else None


def is_lost(trial: FrozenTrial) -> bool:
    """A trial created to claim a cell that another worker held: not an attempt at the cell."""
    return bool(trial.user_attrs.get(LOST))
