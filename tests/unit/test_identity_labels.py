"""The oracle_labels reference's labels: one class per training identity, and with correspondence noise r exactly
round(r·K) identities deranged (no moved identity keeps its own infrared label, no other identity moves, infrared
labels stay true), seeded; round(r·K) = 1 is refused. The diagnostics' cluster matching accuracy of such labels is
1 − moved / K, which is why the noise report can mark a matcher's measured accuracy on the r axis."""

from __future__ import annotations

import numpy as np
import pytest

from baselines.identity_labels import derangement, identity_labels, moved_count
from mmm.diagnostics.identities import TrainingIdentities
from mmm.diagnostics.pseudo_labels import matching_accuracy


def _identities(count: int, per_modality: int = 3, seed: int = 0) -> TrainingIdentities:
    """`count` identities with sparse, unsorted ids, each with `per_modality` visible and infrared rows, shuffled."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(np.arange(1000, 5000), size=count, replace=False)
    visible = rng.permutation(np.repeat(ids, per_modality))
    infrared = rng.permutation(np.repeat(ids, per_modality))
    return TrainingIdentities(pids=np.r_[visible, infrared], visible=visible, infrared=infrared)


@pytest.mark.parametrize(("fraction", "count", "moved"), [(0, 8, 0), (0.25, 8, 2), (0.5, 10, 5), (0.25, 10, 3)])
def test_moved_count_is_r_times_k_rounded_half_up(fraction: float, count: int, moved: int) -> None:
    assert moved_count(fraction, count) == moved


@pytest.mark.parametrize(("fraction", "count"), [(0.25, 4), (0.1, 10), (0.05, 16)])
def test_one_identity_cannot_be_deranged(fraction: float, count: int) -> None:
    with pytest.raises(ValueError, match=r"round\(r·K\) = 1 identity.*cannot be deranged"):
        moved_count(fraction, count)


@pytest.mark.parametrize("count", [0, 2, 3, 7])
def test_a_derangement_leaves_no_element_in_place(count: int) -> None:
    rng = np.random.default_rng(3)
    for _ in range(50):
        permutation = derangement(count, rng)
        assert sorted(permutation.tolist()) == list(range(count))
        assert not np.any(permutation == np.arange(count))


@pytest.mark.parametrize("count", [8, 10, 33, 395])
@pytest.mark.parametrize("fraction", [0.0, 0.25, 0.5, 0.75, 1.0])
def test_exactly_round_r_k_identities_move_and_no_others(count: int, fraction: float) -> None:
    identities = _identities(count)
    made = identity_labels(identities, fraction, seed=5)
    expected = int(np.floor(fraction * count + 0.5))
    ids = np.unique(identities.pids)
    own_v, own_r = np.searchsorted(ids, identities.visible), np.searchsorted(ids, identities.infrared)
    assert np.array_equal(made.labels.infrared, own_r)  # infrared labels stay true
    moved_rows = made.labels.visible != own_v
    moved_identities = np.unique(own_v[moved_rows])
    assert len(moved_identities) == expected == len(made.moved)
    assert np.array_equal(moved_identities, made.moved)
    # Whole identities move: every visible row of a moved identity is relabelled, and to one other moved identity.
    for identity in moved_identities:
        targets = np.unique(made.labels.visible[own_v == identity])
        assert len(targets) == 1 and targets[0] != identity and targets[0] in moved_identities
    # The moved identities' labels are a permutation of themselves: each infrared class gets one visible identity.
    assert sorted(made.mapping[made.moved].tolist()) == made.moved.tolist()


def test_the_noise_is_seeded_and_nests_as_r_grows() -> None:
    identities = _identities(40)
    again = identity_labels(identities, 0.5, seed=2)
    assert np.array_equal(identity_labels(identities, 0.5, seed=2).mapping, again.mapping)
    assert not np.array_equal(identity_labels(identities, 0.5, seed=3).moved, again.moved)
    quarter, three_quarters = (identity_labels(identities, r, seed=2).moved for r in (0.25, 0.75))
    assert set(quarter) < set(again.moved) < set(three_quarters)


@pytest.mark.parametrize("fraction", [0.0, 0.25, 0.5, 0.75])
def test_the_diagnostics_measure_one_minus_the_moved_share(fraction: float) -> None:
    identities = _identities(20)
    made = identity_labels(identities, fraction, seed=1)
    pseudo = made.pseudo
    accuracy = matching_accuracy(
        pseudo["visible"], pseudo["matched_visible"], pseudo["infrared"], identities.visible, identities.infrared
    )
    assert accuracy["matching_accuracy"] == pytest.approx(1.0 - len(made.moved) / 20)
