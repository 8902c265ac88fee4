"""SCA: GMM confidence, weighted prototypes and L_intra, multi-kernel MMD and L_inter, batch-hard triplet."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from mmm.alignment import (
    SCAForm,
    SCAWeights,
    batch_hard_triplet,
    gmm_confidence,
    gmm_confidence_views,
    inter_loss,
    intra_distances,
    mmd,
    sca_losses,
    weighted_prototypes,
)


def loop_mmd(source: torch.Tensor, target: torch.Tensor) -> float:
    """Double loop over pairs: the same estimator written out, bandwidth from the pooled set."""
    pooled = torch.cat([source, target]).double()
    n = len(pooled)
    squared = [[float(((pooled[i] - pooled[j]) ** 2).sum()) for j in range(n)] for i in range(n)]
    b = sum(map(sum, squared)) / (n * n - n)

    def kernel(i: int, j: int) -> float:
        return sum(math.exp(-squared[i][j] / (b * 2.0**k)) for k in range(-2, 3))

    def block_mean(rows: range, cols: range) -> float:
        return sum(kernel(i, j) for i in rows for j in cols) / (len(rows) * len(cols))

    xs, ys = range(len(source)), range(len(source), n)
    return block_mean(xs, xs) + block_mean(ys, ys) - block_mean(xs, ys) - block_mean(ys, xs)


@pytest.mark.parametrize(("n_x", "n_y"), [(5, 5), (3, 6)])
def test_mmd_equals_the_double_loop_formula(n_x: int, n_y: int) -> None:
    generator = torch.Generator().manual_seed(0)
    source = torch.randn(n_x, 4, generator=generator, dtype=torch.float64)
    target = torch.randn(n_y, 4, generator=generator, dtype=torch.float64) + 0.5
    assert mmd(source, target).item() == pytest.approx(loop_mmd(source, target), rel=1e-9)


def test_mmd_of_identical_sets_is_zero_and_grows_with_shift() -> None:
    points = torch.randn(8, 6, generator=torch.Generator().manual_seed(1))
    assert mmd(points, points.clone()).item() == pytest.approx(0.0, abs=1e-6)
    values = [mmd(points, points + shift).item() for shift in (0.1, 0.5, 2.0)]
    assert values[0] < values[1] < values[2]


def test_mmd_of_coincident_points_is_zero_not_nan() -> None:
    assert mmd(torch.ones(3, 2), torch.ones(2, 2)).item() == 0.0


def test_mmd_bandwidth_detach_changes_only_the_gradient() -> None:
    generator = torch.Generator().manual_seed(2)
    source = torch.randn(4, 3, generator=generator, requires_grad=True)
    target = torch.randn(4, 3, generator=generator)
    detached = mmd(source, target)
    attached = mmd(source, target, detach_bandwidth=False)
    assert detached.item() == pytest.approx(attached.item())
    grad_detached = torch.autograd.grad(detached, source)[0]
    grad_attached = torch.autograd.grad(attached, source)[0]
    assert not torch.allclose(grad_detached, grad_attached)


def test_inter_loss_averages_shared_identities_and_stops_gradient_across() -> None:
    generator = torch.Generator().manual_seed(3)
    features_v = torch.randn(6, 4, generator=generator, requires_grad=True)
    features_r = torch.randn(5, 4, generator=generator, requires_grad=True)
    labels_v = torch.tensor([0, 0, 1, 1, 2, 2])
    labels_r = torch.tensor([0, 0, 1, 1, 3])
    loss = inter_loss(features_v, features_r, labels_v, labels_r)
    expected = (mmd(features_v[:2], features_r[:2]) + mmd(features_v[2:4], features_r[2:4])) / 2
    assert loss.item() == pytest.approx(expected.item(), rel=1e-6)
    loss.backward()
    assert features_v.grad is not None and features_v.grad[4:].abs().sum() == 0
    assert features_r.grad is not None and features_r.grad[4:].abs().sum() == 0
    assert features_v.grad[:4].abs().sum() > 0 and features_r.grad[:4].abs().sum() > 0


def _identity_by_identity(
    features_v: torch.Tensor,
    features_r: torch.Tensor,
    labels_v: torch.Tensor,
    labels_r: torch.Tensor,
    views_v: torch.Tensor | None,
) -> torch.Tensor:
    """L_inter one identity at a time with the two-set mmd: half_symmetric when views_v is None, else four_term."""
    terms = []
    for identity in sorted(set(labels_v[labels_v >= 0].tolist()) & set(labels_r.tolist())):
        infrared = features_r[labels_r == identity]
        mine = labels_v == identity
        sets = [features_v[mine]] if views_v is None else [features_v[mine & (views_v == v)] for v in (0, 1)]
        both = [mmd(s, infrared.detach()) + mmd(infrared, s.detach()) for s in sets if len(s)]
        terms.append(0.5 * both[0] if views_v is None else torch.stack(both).sum())
    return torch.stack(terms).mean()


@pytest.mark.parametrize("form", ["half_symmetric", "four_term"])
def test_inter_loss_over_every_identity_at_once_equals_one_identity_at_a_time(form: str) -> None:
    generator = torch.Generator().manual_seed(11)
    labels_v = torch.tensor([0, 0, 0, 1, 1, 2, -1, 3, 3, 0, 1, 2])  # identity 3 has no infrared row
    labels_r = torch.tensor([1, 0, 2, 2, 2, 4, 0, -1])
    views_v = torch.tensor([0, 1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 1]) if form == "four_term" else None
    values, gradients = [], []
    for compute in (inter_loss, _identity_by_identity):
        features_v = torch.randn(12, 5, generator=torch.Generator().manual_seed(1), requires_grad=True)
        features_r = (torch.randn(8, 5, generator=generator.manual_seed(2)) + 0.3).requires_grad_()
        if compute is inter_loss:
            loss = inter_loss(features_v, features_r, labels_v, labels_r, form, views_v=views_v)
        else:
            loss = _identity_by_identity(features_v, features_r, labels_v, labels_r, views_v)
        loss.backward()
        values.append(loss.item())
        gradients.append(torch.cat([features_v.grad, features_r.grad]))
    assert values[0] == pytest.approx(values[1], rel=1e-5)
    assert torch.allclose(gradients[0], gradients[1], atol=1e-6)


def test_inter_loss_is_an_attached_zero_without_shared_identities() -> None:
    features = torch.ones(2, 3, requires_grad=True)
    loss = inter_loss(features, features, torch.tensor([0, 0]), torch.tensor([1, 1]))
    loss.backward()
    assert loss.item() == 0.0


def test_gmm_confidence_separates_a_bimodal_loss_sample() -> None:
    rng = np.random.default_rng(0)
    clean = rng.normal(0.3, 0.1, 300).clip(0)
    noisy = rng.normal(3.0, 0.3, 100)
    confidence = gmm_confidence(np.concatenate([clean, noisy]), seed=0)
    assert confidence.shape == (400,)
    assert confidence[:300].mean() > 0.95
    assert confidence[300:].mean() < 0.05


def test_gmm_confidence_of_equal_losses_is_all_ones() -> None:
    assert gmm_confidence(torch.full((10,), 0.7)).tolist() == [1.0] * 10


def test_weighted_prototypes_divide_by_the_class_count_not_the_weight_sum() -> None:
    features = torch.tensor([[2.0, 0.0], [0.0, 4.0], [1.0, 1.0], [9.0, 9.0]])
    prototypes = weighted_prototypes(features, np.array([0, 0, 2, -1]), np.array([0.5, 0.25, 1.0, 1.0]), 3)
    assert torch.allclose(prototypes, torch.tensor([[0.5, 0.5], [0.0, 0.0], [1.0, 1.0]]))
    assert not prototypes.requires_grad


def test_intra_distances_are_squared_l2_or_mean_absolute_difference() -> None:
    features = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    row_prototypes = torch.tensor([[0.0, 0.0], [1.0, -1.0]])
    assert intra_distances(features, row_prototypes, "l2sq").tolist() == pytest.approx([5.0, 2.0])
    assert intra_distances(features, row_prototypes, "l1").tolist() == pytest.approx([1.5, 1.0])


def test_batch_hard_triplet_equals_a_brute_force_loop() -> None:
    generator = torch.Generator().manual_seed(4)
    features = torch.randn(10, 5, generator=generator, dtype=torch.float64)
    labels = torch.tensor([0, 0, 1, 1, 1, 2, 2, 3, 3, 3])
    total = 0.0
    for i in range(10):
        positives = [float((features[i] - features[j]).norm()) for j in range(10) if labels[j] == labels[i]]
        negatives = [float((features[i] - features[j]).norm()) for j in range(10) if labels[j] != labels[i]]
        total += max(0.0, max(positives) - min(negatives) + 0.2)
    assert batch_hard_triplet(features, labels, margin=0.2).item() == pytest.approx(total / 10, rel=1e-6)


def test_sca_losses_omit_terms_whose_weight_is_zero() -> None:
    generator = torch.Generator().manual_seed(5)
    features = torch.randn(8, 4, generator=generator, requires_grad=True)
    logits = torch.randn(8, 2, generator=generator, requires_grad=True)
    labels = torch.tensor([0, 0, 1, 1, 0, 0, 1, 1])
    views = torch.tensor([0, 0, 1, 1, 2, 2, 2, 2])
    prototypes = torch.stack([torch.zeros(2, 4), torch.zeros(2, 4), torch.ones(2, 4)])
    full = sca_losses(logits, features, labels, views, SCAWeights(), prototypes=prototypes)
    assert set(full) == {"ce", "triplet", "intra", "inter"}
    sum(full.values()).backward()
    plain = sca_losses(logits, features, labels, views, SCAWeights(intra=0.0, inter=0.0))
    assert set(plain) == {"ce", "triplet"}


def test_sca_confidence_weights_each_sample_cross_entropy() -> None:
    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
    labels = torch.tensor([0, 0])
    views = torch.tensor([0, 2])
    weights = SCAWeights(triplet=0.0, intra=0.0, inter=0.0)
    confidence = torch.tensor([1.0, 0.0])
    losses = sca_losses(logits, torch.zeros(2, 3), labels, views, weights, confidence=confidence)
    assert losses["ce"].item() == pytest.approx(math.log(1 + math.exp(-2)) / 2)


def test_sca_intra_pulls_each_view_to_its_own_prototypes() -> None:
    features = torch.tensor([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    prototypes = torch.tensor([[[1.0, 0.0]], [[0.0, 0.0]], [[0.0, 0.0]]])  # view 1 sits on its prototype
    weights = SCAWeights(ce=0.0, triplet=0.0, intra=1.0, inter=0.0)
    losses = sca_losses(
        torch.zeros(3, 1), features, torch.tensor([0, 0, 0]), torch.tensor([0, 1, 2]), weights, prototypes=prototypes
    )
    assert losses["intra"].item() == pytest.approx(2 / 3)


def test_release_intra_is_confidence_weighted_l1_summed_over_modality_means() -> None:
    # Two visible rows per view (v1, v2) and two infrared rows, each one unit from its prototype per dimension.
    features = torch.ones(6, 2)
    prototypes = torch.zeros(3, 1, 2)
    views = torch.tensor([0, 0, 1, 1, 2, 2])
    confidence = torch.tensor([1.0, 0.0, 0.5, 0.5, 1.0, 0.25])
    weights = SCAWeights(ce=0.0, triplet=0.0, intra=0.5, inter=0.0)
    release = SCAForm(intra_distance="l1", intra_confidence=True, intra_reduction="modality_sum")
    losses = sca_losses(
        torch.zeros(6, 1),
        features,
        torch.zeros(6, dtype=torch.long),
        views,
        weights,
        confidence=confidence,
        prototypes=prototypes,
        form=release,
    )
    # release main.py: (sum over visible rows of (w1 l1 + w2 l2)/2 + sum over infrared rows of w l) / n, n = 2
    expected = 0.5 * (((1.0 + 0.5) / 2 + (0.0 + 0.5) / 2) + (1.0 + 0.25)) / 2
    assert losses["intra"].item() == pytest.approx(expected)
    paper = sca_losses(
        torch.zeros(6, 1),
        features,
        torch.zeros(6, dtype=torch.long),
        views,
        weights,
        confidence=confidence,
        prototypes=prototypes,
    )
    assert paper["intra"].item() == pytest.approx(0.5 * 2.0)  # squared L2 of (1, 1), unweighted batch mean


def test_four_term_inter_sums_both_views_in_both_directions_without_a_half() -> None:
    generator = torch.Generator().manual_seed(8)
    view_1, view_2, infrared = (torch.randn(3, 4, generator=generator) for _ in range(3))
    features = torch.cat([view_1, view_2, infrared])
    labels = torch.zeros(9, dtype=torch.long)
    views = torch.tensor([0] * 3 + [1] * 3 + [2] * 3)
    weights = SCAWeights(ce=0.0, triplet=0.0, intra=0.0, inter=1.0)
    four = sca_losses(torch.zeros(9, 1), features, labels, views, weights, form=SCAForm(inter_form="four_term"))
    expected = sum(2 * loop_mmd(view, infrared) for view in (view_1, view_2))
    assert four["inter"].item() == pytest.approx(expected, rel=1e-4)
    half = sca_losses(torch.zeros(9, 1), features, labels, views, weights)
    assert half["inter"].item() == pytest.approx(loop_mmd(torch.cat([view_1, view_2]), infrared), rel=1e-4)


def test_gmm_over_views_normalises_each_view_on_its_own() -> None:
    rng = np.random.default_rng(3)
    losses = np.r_[rng.normal(0.1, 0.02, 30), rng.normal(0.9, 0.02, 10)]
    first, second = gmm_confidence_views([losses, losses * 10 + 5], max_iter=100)
    assert np.allclose(first, second)
    assert first[:30].min() > 0.9 and first[30:].max() < 0.1
    assert np.allclose(gmm_confidence(losses, max_iter=100), gmm_confidence_views([losses], max_iter=100)[0])
