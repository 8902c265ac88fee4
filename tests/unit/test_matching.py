"""MMLM: batched sub-centres, Chamfer cost, Hungarian and greedy cluster matching, label transfer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mmm.matching import chamfer_cost, match_clusters, multi_memory_match, subcentres, transfer_labels
from mmm.matching.kmeans import batched_kmeans, inertia, kmeans_plus_plus, lloyd_weights
from mmm.matching.subcentres import size_batches


def reference_lloyd(points: torch.Tensor, init: list[int], iters: int) -> torch.Tensor:
    """Textbook Lloyd on one set, in feature space: nearest centre, then mean; empty centres keep their value."""
    centres = points[init].clone()
    for _ in range(iters):
        assignment = torch.cdist(points.double(), centres.double()).argmin(dim=1)
        for k in range(len(centres)):
            if bool((assignment == k).any()):
                centres[k] = points[assignment == k].mean(dim=0)
    return centres


def clustered_points(
    clusters: int, per_cluster: int, dim: int, seed: int, views: int = 1, spread: float = 0.05
) -> tuple[torch.Tensor, np.ndarray, torch.Tensor]:
    """Points around `views` modes per cluster; returns (points, labels, modes [clusters, views, dim])."""
    generator = torch.Generator().manual_seed(seed)
    modes = torch.randn(clusters, views, dim, generator=generator)
    labels = np.repeat(np.arange(clusters), per_cluster)
    view = np.tile(np.arange(per_cluster) % views, clusters)
    points = modes[labels, view] + spread * torch.randn(len(labels), dim, generator=generator)
    return points, labels, modes


@pytest.mark.parametrize("use_gram", [True, False])
def test_batched_kmeans_equals_a_per_set_reference_from_the_same_init(use_gram: bool) -> None:
    generator = torch.Generator().manual_seed(3)
    points = torch.randn(5, 30, 6, generator=generator, dtype=torch.float64)
    sizes = torch.tensor([30, 17, 9, 25, 12])
    mask = torch.arange(30).unsqueeze(0) < sizes.unsqueeze(1)
    gram = points @ points.transpose(1, 2) if use_gram else None
    init = kmeans_plus_plus(points, gram, mask, 3, torch.Generator().manual_seed(0))
    centres = lloyd_weights(points, gram, mask, init, iters=8) @ points
    for b in range(5):
        expected = reference_lloyd(points[b, : sizes[b]], init[b].tolist(), iters=8)
        assert torch.allclose(centres[b], expected, atol=1e-9)


def test_kmeans_plus_plus_picks_distinct_real_members() -> None:
    points = torch.randn(4, 10, 3, generator=torch.Generator().manual_seed(1))
    mask = torch.arange(10).unsqueeze(0) < torch.tensor([10, 6, 4, 5]).unsqueeze(1)
    init = kmeans_plus_plus(points, None, mask, 4, torch.Generator().manual_seed(0))
    for row, size in zip(init.tolist(), [10, 6, 4, 5]):
        assert len(set(row)) == 4 and max(row) < size


def test_clusters_smaller_than_n_repeat_their_members_as_centres() -> None:
    points = torch.tensor([[0.0, 1.0], [2.0, 0.0], [5.0, 5.0], [1.0, 1.0], [9.0, 9.0]])
    centres = subcentres(points, np.array([0, 0, 1, -1, 2]), n=4)
    assert torch.equal(centres[0], points[[0, 1, 0, 1]])
    assert torch.equal(centres[1], points[[2, 2, 2, 2]])
    assert torch.equal(centres[2], points[[4, 4, 4, 4]])


def test_subcentres_are_means_of_the_members_nearest_to_them() -> None:
    points, labels, _ = clustered_points(clusters=6, per_cluster=24, dim=5, seed=2, views=3, spread=0.3)
    centres = subcentres(points, labels, n=3, iters=50, seed=0)
    for c in range(6):
        members = points[labels == c]
        nearest = torch.cdist(members, centres[c]).argmin(dim=1)
        for k in range(3):
            assert bool((nearest == k).any())
            assert torch.allclose(centres[c, k], members[nearest == k].mean(dim=0), atol=1e-5)


def test_subcentres_are_reproducible_for_a_seed() -> None:
    points, labels, _ = clustered_points(clusters=4, per_cluster=20, dim=4, seed=5, spread=1.0)
    assert torch.equal(subcentres(points, labels, 4, seed=7), subcentres(points, labels, 4, seed=7))


def test_subcentres_reject_non_contiguous_labels() -> None:
    with pytest.raises(ValueError, match="contiguous"):
        subcentres(torch.zeros(3, 2), np.array([0, 2, 2]), n=2)


def test_size_batches_cover_every_cluster_once_with_bounded_spread() -> None:
    sizes = np.array([3, 40, 4, 5, 100, 41, 6, 3])
    groups = size_batches(sizes)
    assert sorted(np.concatenate(groups).tolist()) == list(range(8))
    for group in groups:
        assert sizes[group].max() <= 1.5 * sizes[group].min()


@pytest.mark.parametrize("direction", ["visible", "infrared"])
def test_chamfer_cost_equals_the_direct_double_sum(direction: str) -> None:
    generator = torch.Generator().manual_seed(0)
    centres_v = torch.randn(4, 3, 5, generator=generator, dtype=torch.float64)
    centres_r = torch.randn(6, 2, 5, generator=generator, dtype=torch.float64)
    cost = chamfer_cost(centres_v, centres_r, direction=direction)
    for a in range(4):
        for b in range(6):
            pair = [[float((centres_v[a, i] - centres_r[b, j]).norm()) for j in range(2)] for i in range(3)]
            if direction == "visible":
                expected = sum(min(row) for row in pair)
            else:
                expected = sum(min(pair[i][j] for i in range(3)) for j in range(2))
            assert cost[a, b].item() == pytest.approx(expected, rel=1e-6)


def test_greedy_maps_two_clusters_to_their_shared_favourite_and_hungarian_does_not() -> None:
    cost = np.array([[1.0, 3.0], [1.5, 2.0]])
    assert match_clusters(cost, "greedy").tolist() == [0, 0]
    assert match_clusters(cost, "hungarian").tolist() == [0, 1]


def test_hungarian_with_more_visible_clusters_sends_the_left_over_to_their_cheapest() -> None:
    cost = np.array([[1.0, 5.0], [5.0, 1.0], [2.0, 3.0], [4.0, 3.5]])
    assert match_clusters(cost, "hungarian").tolist() == [0, 1, 0, 1]


def test_hungarian_with_fewer_visible_clusters_matches_each_once() -> None:
    cost = np.array([[1.0, 2.0, 9.0], [1.1, 9.0, 3.0]])
    matching = match_clusters(cost, "hungarian")
    assert matching.tolist() == [1, 0]


def test_unknown_solver_lists_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="hungarian, greedy"):
        match_clusters(np.ones((2, 2)), "auction")  # type: ignore[arg-type]


def test_transfer_labels_keeps_outliers() -> None:
    assert transfer_labels(np.array([0, -1, 2, 1, 2]), np.array([5, 3, 4])).tolist() == [5, -1, 4, 3, 4]


@pytest.mark.parametrize(("n", "views"), [(1, 1), (4, 1), (4, 3)])
def test_multi_memory_match_recovers_a_planted_permutation(n: int, views: int) -> None:
    clusters = 9
    features_r, labels_r, modes = clustered_points(clusters, per_cluster=18, dim=16, seed=11, views=views)
    permutation = np.random.default_rng(0).permutation(clusters)
    # Visible cluster a is infrared cluster permutation[a], seen with its own noise.
    generator = torch.Generator().manual_seed(12)
    labels_v = np.repeat(np.arange(clusters), 15)
    view = np.tile(np.arange(15) % views, clusters)
    features_v = modes[permutation[labels_v], view] + 0.05 * torch.randn(len(labels_v), 16, generator=generator)
    labels_v[::7] = -1
    for solver in ("hungarian", "greedy"):
        result = multi_memory_match(features_v, labels_v, features_r, labels_r, n=n, solver=solver)
        assert result.matching.tolist() == permutation.tolist()
        assert result.cost.shape == (clusters, clusters)
        kept = labels_v >= 0
        assert result.labels_v[kept].tolist() == permutation[labels_v[kept]].tolist()
        assert (result.labels_v[~kept] == -1).all()


def test_batched_kmeans_routes_agree() -> None:
    points = torch.randn(3, 40, 8, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    mask = torch.ones(3, 40, dtype=torch.bool)
    via_gram = batched_kmeans(points, mask, 4, 10, torch.Generator().manual_seed(0), use_gram=True)
    direct = batched_kmeans(points, mask, 4, 10, torch.Generator().manual_seed(0), use_gram=False)
    assert torch.allclose(via_gram, direct, atol=1e-9)


def test_the_release_skip_last_quirk_leaves_the_last_clusters_out() -> None:
    # Three visible and three infrared clusters; visible cluster c sits on infrared cluster 2 - c.
    centres = torch.eye(3)
    features_v = centres.repeat_interleave(4, dim=0)
    features_r = centres.flip(0).repeat_interleave(4, dim=0)
    labels = np.repeat(np.arange(3), 4)
    plain = multi_memory_match(features_v, labels, features_r, labels, n=1, solver="greedy")
    assert plain.matching.tolist() == [2, 1, 0]
    quirk = multi_memory_match(features_v, labels, features_r, labels, n=1, solver="greedy", skip_last=True)
    # visible 0 cannot reach infrared 2 (never a candidate); visible 2 is never matched and keeps id 2
    assert quirk.matching[2] == 2 and 2 not in quirk.matching[:2].tolist()
    assert quirk.labels_v[labels == 2].tolist() == [2] * 4


def test_restarts_keep_each_sets_run_of_least_inertia_and_one_restart_is_one_run() -> None:
    points = torch.randn(6, 40, 5, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    mask = torch.arange(40).unsqueeze(0) < torch.tensor([40, 33, 21, 40, 12, 27]).unsqueeze(1)
    once = batched_kmeans(points, mask, 4, 30, torch.Generator().manual_seed(0))
    again = batched_kmeans(points, mask, 4, 30, torch.Generator().manual_seed(0), restarts=1)
    assert torch.equal(once, again)
    # Every run the ten restarts make, by hand: same generator, same order of draws.
    generator = torch.Generator().manual_seed(0)
    runs = [
        lloyd_weights(points, None, mask, kmeans_plus_plus(points, None, mask, 4, generator), 30) for _ in range(10)
    ]
    inertias = torch.stack([inertia(points, None, mask, weights) for weights in runs])
    best = batched_kmeans(points, mask, 4, 30, torch.Generator().manual_seed(0), use_gram=False, restarts=10)
    for b in range(6):
        chosen = int(inertias[:, b].argmin())  # the first of equals, as the restarts keep it
        assert torch.allclose(best[b], (runs[chosen] @ points)[b])
    assert (inertias.min(dim=0).values <= inertias[0]).all() and (inertias.min(dim=0).values < inertias[0]).any()


def test_inertia_is_the_masked_sum_of_squared_distances_to_the_nearest_centre() -> None:
    points = torch.tensor([[[0.0, 0.0], [2.0, 0.0], [10.0, 0.0], [99.0, 99.0]]], dtype=torch.float64)
    mask = torch.tensor([[True, True, True, False]])
    weights = torch.tensor([[[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0]]], dtype=torch.float64)  # centres 1, 10
    assert inertia(points, None, mask, weights).tolist() == [2.0]
    gram = points @ points.transpose(1, 2)
    assert inertia(points, gram, mask, weights).tolist() == [2.0]
