"""The one door to the identities of the training split.

Training code never reads them: the methods see TrainSplit.images only. What may read them — the ground-truth
diagnostics (ARI, matching accuracy), the data check's counts and the references that use identity labels on purpose
(the oracle_labels ceiling and oracle_matching) — reads them here, and nowhere else reads TrainSplit.ground_truth (a
test walks the source to hold that, and another runs every method with identities that cannot be read).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from mmm.data.records import Modality, TrainSplit


@dataclass(frozen=True)
class TrainingIdentities:
    """The identity of every training image, in split order and per modality (rows in TrainSplit.indices order)."""

    pids: np.ndarray  # [N] one per training image
    visible: np.ndarray  # [Nv] the visible rows' identities
    infrared: np.ndarray  # [Nr] the infrared rows' identities

    def digest(self) -> str:
        """sha256 of the identities per modality: what a result computed from them is keyed on."""
        hasher = hashlib.sha256()
        for part in (self.visible, self.infrared):
            hasher.update(np.ascontiguousarray(part, dtype=np.int64).tobytes())
            hasher.update(b"|")
        return hasher.hexdigest()


def training_identities(train: TrainSplit) -> TrainingIdentities:
    """The identities of `train`'s images; for diagnostics and references only, never for a method."""
    pids = np.asarray(train.ground_truth.pids, dtype=np.int64)
    return TrainingIdentities(
        pids=pids,
        visible=pids[train.indices(Modality.VISIBLE)],
        infrared=pids[train.indices(Modality.INFRARED)],
    )
