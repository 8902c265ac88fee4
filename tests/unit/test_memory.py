"""Cluster memory and CMC hybrid memory: initialisation, ClusterNCE, the sequential momentum update."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmm.memory import ClusterMemory, HybridMemory, cluster_centroids, hybrid_centroids
from mmm.memory.cluster_memory import occurrence_rank


def unit(*values: float) -> torch.Tensor:
    return F.normalize(torch.tensor(values, dtype=torch.float32), dim=0)


def naive_update(rows: torch.Tensor, features: torch.Tensor, targets: torch.Tensor, m: float) -> torch.Tensor:
    rows = rows.clone()
    for f, t in zip(F.normalize(features, dim=1), targets.tolist()):
        rows[t] = F.normalize(m * rows[t] + (1 - m) * f, dim=0)
    return rows


def test_initialise_normalises_rows_and_keeps_them_out_of_parameters() -> None:
    memory = ClusterMemory(num_features=2, num_clusters=2)
    memory.initialise(torch.tensor([[3.0, 4.0], [0.0, 2.0]]))
    assert torch.allclose(memory.features, torch.tensor([[0.6, 0.8], [0.0, 1.0]]))
    assert list(memory.parameters()) == []
    assert "features" in dict(memory.named_buffers())


def test_update_moves_ninety_percent_toward_the_sample_for_momentum_point_one() -> None:
    memory = ClusterMemory(num_features=2, num_clusters=1, momentum=0.1)
    memory.initialise(torch.tensor([[1.0, 0.0]]))
    memory.update(torch.tensor([[0.0, 1.0]]), torch.tensor([0]))
    expected = torch.tensor([0.1, 0.9]) / math.sqrt(0.1**2 + 0.9**2)
    assert torch.allclose(memory.features[0], expected)
    assert torch.allclose(memory.features.norm(dim=1), torch.ones(1))


def test_update_applies_repeated_targets_sequentially_in_batch_order() -> None:
    memory = ClusterMemory(num_features=2, num_clusters=2, momentum=0.1)
    memory.initialise(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    memory.update(torch.tensor([[0.0, 1.0], [1.0, 1.0], [-1.0, 0.0]]), torch.tensor([0, 1, 0]))
    first = F.normalize(torch.tensor([0.1, 0.9]), dim=0)
    second = F.normalize(0.1 * first + 0.9 * torch.tensor([-1.0, 0.0]), dim=0)
    assert torch.allclose(memory.features[0], second)
    assert torch.allclose(memory.features[1], F.normalize(0.1 * torch.tensor([0.0, 1.0]) + 0.9 * unit(1, 1), dim=0))


def test_update_equals_a_per_sample_loop_on_a_batch_with_many_repeats() -> None:
    generator = torch.Generator().manual_seed(0)
    memory = ClusterMemory(num_features=8, num_clusters=5, momentum=0.3)
    memory.initialise(torch.randn(5, 8, generator=generator))
    features = torch.randn(40, 8, generator=generator)
    targets = torch.randint(0, 5, (40,), generator=generator)
    expected = naive_update(memory.features, features, targets, 0.3)
    memory.update(features, targets)
    assert torch.allclose(memory.features, expected, atol=1e-6)
    assert torch.allclose(memory.features.norm(dim=1), torch.ones(5))


def test_occurrence_rank_counts_earlier_samples_of_the_same_target() -> None:
    assert occurrence_rank(np.array([3, 1, 3, 3, 1, 0])).tolist() == [0, 0, 1, 2, 1, 0]


def test_cluster_nce_equals_a_hand_computed_cross_entropy() -> None:
    memory = ClusterMemory(num_features=2, num_clusters=3, temperature=0.5)
    memory.initialise(torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]]))
    features = torch.tensor([[2.0, 0.0], [0.0, -3.0]], requires_grad=True)
    loss = memory.loss(features, torch.tensor([0, 1]))
    # Normalised features (1, 0) and (0, -1); similarities / 0.5.
    first = -math.log(math.exp(2) / (math.exp(2) + math.exp(0) + math.exp(-2)))
    second = -math.log(math.exp(-2) / (math.exp(0) + math.exp(-2) + math.exp(0)))
    assert loss.item() == pytest.approx((first + second) / 2, rel=1e-6)
    loss.backward()
    assert features.grad is not None and features.grad.abs().sum() > 0
    assert not memory.features.requires_grad


def test_cluster_centroids_ignore_outliers_and_report_ids() -> None:
    features = torch.tensor([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0], [5.0, 5.0]])
    centroids, ids = cluster_centroids(features, np.array([1, 1, 4, -1]))
    assert ids.tolist() == [1, 4]
    assert torch.allclose(centroids, torch.tensor([[1.0, 0.0], [0.0, 1.0]]))


def test_hybrid_centroids_average_the_two_modality_means() -> None:
    features = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [3.0, 3.0]])
    labels = np.array([0, 0, 0, 1, -1])
    modalities = np.array([0, 0, 1, 0, 1])
    centroids, mixed = hybrid_centroids(features, labels, modalities, num_clusters=2)
    # Visible mean (1, 0) and infrared mean (0, 1) weigh equally, however many members each has.
    assert torch.allclose(centroids[0], unit(1, 1))
    assert torch.allclose(centroids[1], torch.tensor([0.0, 1.0]))
    assert mixed.tolist() == [True, False]


def test_hybrid_memory_trains_only_on_clusters_holding_both_modalities() -> None:
    memory = HybridMemory(num_features=2, num_clusters=2, temperature=0.5)
    members = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    memory.initialise_from_members(members, np.array([0, 0, 1]), np.array([0, 1, 0]))
    before = memory.features.clone()
    features = torch.tensor([[1.0, 1.0], [0.0, 1.0]], requires_grad=True)
    targets = torch.tensor([0, 1])
    plain = ClusterMemory(num_features=2, num_clusters=2, temperature=0.5)
    plain.initialise(memory.features)
    assert memory.loss(features, targets).item() == pytest.approx(plain.loss(features[:1], targets[:1]).item())
    memory.update(features.detach(), targets)
    assert torch.equal(memory.features[1], before[1])
    assert not torch.equal(memory.features[0], before[0])


def test_hybrid_loss_is_an_attached_zero_when_no_sample_has_a_mixed_cluster() -> None:
    memory = HybridMemory(num_features=2, num_clusters=2)
    memory.initialise_from_members(torch.eye(2), np.array([0, 1]), np.array([0, 1]))
    features = torch.ones(1, 2, requires_grad=True)
    loss = memory.loss(features, torch.tensor([1]))
    loss.backward()
    assert loss.item() == 0.0
    assert features.grad is not None
