"""Stage-C labels made from the true identities, for the oracle_labels reference: every identity is one class in
both modalities, and a fraction of the identities may have their visible -> infrared correspondence deranged.

A deranged identity's visible samples take the infrared label of another deranged identity, and none keeps its own
(whole identities swapped: the error a cluster matcher makes); infrared labels always stay true. Exactly
round(r·K) of the K training identities move (rounded half up); the moved set and the derangement are drawn from
the run seed, and at one seed a larger r moves a superset of a smaller r's identities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mmm.diagnostics.identities import TrainingIdentities
from mmm.pipeline.alignment_stage import MatchedLabels
from mmm.pipeline.seeds import stage_seed

_NOISE_STREAM = "correspondence-noise"


@dataclass(frozen=True)
class IdentityLabels:
    """Stage C's labels, the per-modality truth they were made from (classes 0..K-1) and what moved."""

    labels: MatchedLabels
    true_visible: np.ndarray  # [Nv] each visible row's own identity class
    true_infrared: np.ndarray  # [Nr] each infrared row's identity class (equal to labels.infrared)
    mapping: np.ndarray  # [K] the infrared class each identity's visible samples are given
    moved: np.ndarray  # the identity classes whose mapping is deranged, sorted

    @property
    def pseudo(self) -> dict[str, np.ndarray]:
        """As MMLM's stage records its labels: per-modality clusters (here the identities) and the transfer."""
        return {"visible": self.true_visible, "infrared": self.true_infrared, "matched_visible": self.labels.visible}


def moved_count(fraction: float, identities: int) -> int:
    """round(fraction · identities), half up; ValueError when that is 1, which no derangement can move."""
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"correspondence_noise: expected a fraction in [0, 1], got {fraction}")
    count = math.floor(fraction * identities + 0.5)
    if count == 1:
        raise ValueError(
            f"correspondence_noise {fraction} of {identities} training identities moves round(r·K) = 1 identity, "
            "and one identity cannot be deranged (it would keep its own label): choose r so that round(r·K) is 0 or "
            "at least 2"
        )
    return count


def derangement(count: int, rng: np.random.Generator) -> np.ndarray:
    """A uniformly drawn permutation of range(count) with no fixed point (count 0 or >= 2)."""
    if count == 1:
        raise ValueError("one element cannot be deranged")
    while True:
        # About 1/e of all permutations are derangements, so this takes e draws on average.
        permutation = rng.permutation(count)
        if count == 0 or not np.any(permutation == np.arange(count)):
            return permutation


def identity_labels(identities: TrainingIdentities, noise: float, seed: int) -> IdentityLabels:
    """Classes 0..K-1 over the K training identities (sorted ids), with round(noise · K) of them deranged."""
    ids = np.unique(identities.pids)
    true_visible = np.searchsorted(ids, identities.visible)
    true_infrared = np.searchsorted(ids, identities.infrared)
    count = moved_count(noise, len(ids))
    rng = np.random.default_rng(stage_seed(seed, _NOISE_STREAM))
    # One order of the identities per seed: the first `count` move, so the moved sets nest as r grows.
    moved = np.sort(rng.permutation(len(ids))[:count])
    mapping = np.arange(len(ids))
    mapping[moved] = moved[derangement(count, rng)]
    labels = MatchedLabels(visible=mapping[true_visible], infrared=true_infrared)
    return IdentityLabels(labels, true_visible, true_infrared, mapping, moved)
