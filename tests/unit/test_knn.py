"""Exact kNN through faiss: true neighbours by cosine, the sample itself always first."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mmm.clustering import knn
from mmm.clustering.knn import exact_knn, unit_rows
from tests.availability import cuda_only


def _random_features(seed: int, n: int, d: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)


@pytest.mark.parametrize("seed, n, d, k", [(0, 50, 8, 5), (1, 300, 32, 31), (2, 120, 64, 120)])
def test_neighbours_match_brute_force_cosine(seed: int, n: int, d: int, k: int) -> None:
    x = _random_features(seed, n, d)
    sims, idx = exact_knn(x, k)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    dense = unit.astype(np.float64) @ unit.T.astype(np.float64)
    expected = -np.sort(-dense, axis=1)[:, :k]
    # Compared by similarity, not index, so that exact ties may come in either order.
    np.testing.assert_allclose(sims, expected, atol=1e-5)
    np.testing.assert_allclose(np.take_along_axis(dense, idx, axis=1), expected, atol=1e-5)
    assert all(len(set(row)) == k for row in idx.tolist())


def test_sample_itself_is_first_in_every_row() -> None:
    sims, idx = exact_knn(_random_features(3, 200, 16), 10)
    np.testing.assert_array_equal(idx[:, 0], np.arange(200))
    np.testing.assert_allclose(sims[:, 0], 1.0, atol=1e-5)


def test_sample_itself_is_first_among_exact_duplicates() -> None:
    # Twelve copies of one vector: every copy ties with every other, more copies than the list holds.
    base = _random_features(4, 1, 8)
    x = np.concatenate([np.repeat(base, 12, axis=0), _random_features(5, 30, 8)])
    sims, idx = exact_knn(x, 5)
    np.testing.assert_array_equal(idx[:, 0], np.arange(x.shape[0]))
    assert all(len(set(row)) == 5 for row in idx.tolist())
    np.testing.assert_allclose(sims[:12], 1.0, atol=1e-5)


def test_outputs_are_float32_sims_and_int64_indices() -> None:
    sims, idx = exact_knn(_random_features(6, 40, 8), 4)
    assert sims.dtype == np.float32 and idx.dtype == np.int64
    assert sims.shape == idx.shape == (40, 4)


def test_torch_tensor_gives_the_same_neighbours_as_numpy() -> None:
    x = _random_features(7, 80, 16)
    _, from_numpy = exact_knn(x, 6)
    _, from_torch = exact_knn(torch.from_numpy(x), 6)
    np.testing.assert_array_equal(from_numpy, from_torch)


def test_rows_are_normalised_so_scale_does_not_change_neighbours() -> None:
    x = _random_features(8, 60, 8)
    scales = np.random.default_rng(9).uniform(0.1, 10.0, size=(60, 1)).astype(np.float32)
    _, plain = exact_knn(x, 5)
    _, scaled = exact_knn(x * scales, 5)
    np.testing.assert_array_equal(plain, scaled)


def test_unit_rows_leaves_zero_rows_at_zero() -> None:
    x = np.zeros((3, 4), dtype=np.float32)
    x[1] = [3.0, 4.0, 0.0, 0.0]
    unit = unit_rows(x)
    np.testing.assert_allclose(unit, [[0, 0, 0, 0], [0.6, 0.8, 0, 0], [0, 0, 0, 0]])


@pytest.mark.parametrize("k", [0, 11])
def test_k_outside_one_to_n_is_rejected(k: int) -> None:
    with pytest.raises(ValueError, match="k must lie"):
        exact_knn(_random_features(10, 10, 4), k)


def test_the_device_search_finds_what_faiss_finds(monkeypatch: pytest.MonkeyPatch) -> None:
    # The CUDA runs' search (a blocked product and top-k), run here on the CPU; small blocks, so several are made.
    x = unit_rows(_random_features(7, 300, 32))
    monkeypatch.setattr(knn, "DEVICE_BLOCK_ELEMENTS", 300 * 64)
    sims, idx = knn.search_on_device(x, 12, torch.device("cpu"))
    sims_faiss, idx_faiss = exact_knn(x, 12, normalize=False)
    np.testing.assert_array_equal(idx, idx_faiss)
    np.testing.assert_allclose(sims, sims_faiss, atol=1e-6)


@cuda_only
def test_a_search_on_cuda_finds_the_neighbours_of_the_cpu_search() -> None:
    x = _random_features(8, 2000, 64)
    _, on_cpu = exact_knn(x, 10)
    _, on_cuda = exact_knn(x, 10, device=torch.device("cuda"))
    np.testing.assert_array_equal(on_cuda, on_cpu)
