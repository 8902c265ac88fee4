"""The queue's own marks on each Optuna trial (user attributes prefixed "harness.") and how it reads them back.

What a run produced (cell, params, metrics, ...) is recorded by harness.records; these keys say only who claimed
which cell with which code, whether the claim is alive, won or lost, and why an attempt failed.
"""

from __future__ import annotations

from optuna.trial import FrozenTrial

from mmm.code_identity import CodeIdentity

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


def code_of(trial: FrozenTrial) -> CodeIdentity | None:
    """The code identity of the worker that claimed the trial; None for a claim that recorded none (made before
    claims recorded it)."""
    claim = trial.user_attrs.get(CLAIM)
    return CodeIdentity.from_dict(claim.get("code")) if isinstance(claim, dict) else None


def source_of(trial: FrozenTrial) -> str | None:
    """The method's source hash the trial was run with (mmm.code_identity), None when unknown."""
    code = code_of(trial)
    return None if code is None else code.source
