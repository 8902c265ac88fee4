"""Tests of the rank metrics: hand-worked SYSU-MM01 and RegDB cases, and agreement with a loop-by-loop
reference implementation written plainly from the protocol's definition."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mmm.evaluation.metrics import RankResult, evaluate_regdb, evaluate_sysu


def reference_metrics(
    dist: np.ndarray,
    q_pids: np.ndarray,
    g_pids: np.ndarray,
    q_camids: np.ndarray | None,
    g_camids: np.ndarray | None,
    max_rank: int,
) -> RankResult:
    """Query by query with plain loops; camids given = SYSU rules (cam-3/cam-2 removal, deduplicated CMC)."""
    sysu = q_camids is not None
    cmc_counts = np.zeros(max_rank)
    aps, inps = [], []
    for i in range(len(q_pids)):
        order = sorted(range(len(g_pids)), key=lambda j: dist[i][j])
        if sysu and q_camids[i] == 3:
            order = [j for j in order if g_camids[j] != 2]
        ranked = [g_pids[j] for j in order]
        if q_pids[i] not in ranked:
            continue
        hits, precisions, last_hit = 0, [], 0
        for rank, pid in enumerate(ranked, start=1):
            if pid == q_pids[i]:
                hits += 1
                precisions.append(hits / rank)
                last_hit = rank
        aps.append(sum(precisions) / hits)
        inps.append(hits / last_hit)
        listed = []
        if sysu:
            for pid in ranked:
                if pid not in listed:
                    listed.append(pid)
        else:
            listed = ranked
        first_rank = listed.index(q_pids[i]) + 1
        for k in range(max_rank):
            if first_rank <= k + 1:
                cmc_counts[k] += 1
    return RankResult(cmc_counts / len(aps), sum(aps) / len(aps), sum(inps) / len(inps), len(aps))


def assert_same(result: RankResult, expected: RankResult) -> None:
    np.testing.assert_allclose(result.cmc, expected.cmc, atol=1e-12)
    assert result.mAP == pytest.approx(expected.mAP, abs=1e-12)
    assert result.mINP == pytest.approx(expected.mINP, abs=1e-12)
    assert result.num_valid_queries == expected.num_valid_queries


def test_cam3_query_ignores_cam2_gallery_and_cam6_query_keeps_it() -> None:
    # Gallery: g0 pid 1 cam 2, g1 pid 2 cam 1, g2 pid 1 cam 4, g3 pid 3 cam 5; both queries are pid 1 and see
    # the ranking g0, g1, g2, g3.
    # Cam-3 query: g0 removed -> list g1(2), g2(1), g3(3): first hit rank 2, AP = 1/2, INP = 1/2.
    # Cam-6 query: list g0(1), g1(2), g2(1), g3(3): hits at ranks 1 and 3, AP = (1/1 + 2/3)/2 = 5/6,
    # INP = 2/3.
    # CMC = [1/2, 1, 1, 1]; mAP = (1/2 + 5/6)/2 = 2/3; mINP = (1/2 + 2/3)/2 = 7/12.
    dist = np.array([[0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]])
    result = evaluate_sysu(dist, [1, 1], [1, 2, 1, 3], [3, 6], [2, 1, 4, 5], max_rank=4)
    np.testing.assert_allclose(result.cmc, [0.5, 1.0, 1.0, 1.0])
    assert result.mAP == pytest.approx(2 / 3)
    assert result.mINP == pytest.approx(7 / 12)
    assert result.num_valid_queries == 2


def test_cam3_query_whose_only_match_is_in_cam2_is_skipped() -> None:
    # Gallery: g0 pid 1 cam 2 (the only pid-1 image), g1 pid 2 cam 1, ranked g1 then g0 for both queries.
    # Cam-3 query: g0 removed, no positive left -> not valid. Cam-6 query: hit at rank 2 -> CMC [0, 1],
    # AP = 1/2, INP = 1/2. Averages are over the one valid query.
    dist = np.array([[0.5, 0.1], [0.5, 0.1]])
    result = evaluate_sysu(dist, [1, 1], [1, 2], [3, 6], [2, 1], max_rank=2)
    np.testing.assert_allclose(result.cmc, [0.0, 1.0])
    assert result.mAP == pytest.approx(0.5)
    assert result.mINP == pytest.approx(0.5)
    assert result.num_valid_queries == 1


def test_removal_applies_only_to_cam3_queries_and_cam2_gallery() -> None:
    # A cam-3 query keeps cam-1/4/5 images, and a cam-6 query keeps cam-2: each finds pid 1 at rank 1.
    dist = np.array([[0.1, 0.2], [0.1, 0.2]])
    result = evaluate_sysu(dist, [1, 1], [1, 2], [3, 6], [1, 1], max_rank=1)
    np.testing.assert_allclose(result.cmc, [1.0])
    result = evaluate_sysu(dist[:1], [1], [1, 2], [6], [2, 1], max_rank=1)
    np.testing.assert_allclose(result.cmc, [1.0])


def test_sysu_cmc_counts_each_identity_once_but_regdb_does_not() -> None:
    # Ranked gallery pids: 2, 2, 1 (query pid 1). Deduplicated (SYSU): 2, 1 -> hit at rank 2, CMC [0, 1, 1].
    # Plain (RegDB): hit at rank 3, CMC [0, 0, 1]. mAP and mINP use the full list in both: 1/3.
    dist = np.array([[0.1, 0.2, 0.3]])
    sysu = evaluate_sysu(dist, [1], [2, 2, 1], [6], [1, 4, 5], max_rank=3)
    regdb = evaluate_regdb(dist, [1], [2, 2, 1], max_rank=3)
    np.testing.assert_allclose(sysu.cmc, [0.0, 1.0, 1.0])
    np.testing.assert_allclose(regdb.cmc, [0.0, 0.0, 1.0])
    assert sysu.mAP == pytest.approx(1 / 3) and regdb.mAP == pytest.approx(1 / 3)
    assert sysu.mINP == pytest.approx(1 / 3) and regdb.mINP == pytest.approx(1 / 3)


def test_an_ignored_image_does_not_hide_a_later_image_of_its_identity() -> None:
    # Cam-3 query pid 1; ranked: pid 2 (cam 2, ignored), pid 2 (cam 1), pid 1 (cam 1). The kept list is 2, 1,
    # so the hit is at rank 2 (the cam-1 pid-2 image is that identity's first kept occurrence).
    dist = np.array([[0.1, 0.2, 0.3]])
    result = evaluate_sysu(dist, [1], [2, 2, 1], [3], [2, 1, 1], max_rank=2)
    np.testing.assert_allclose(result.cmc, [0.0, 1.0])
    assert result.mAP == pytest.approx(0.5)


def test_minp_is_positives_over_rank_of_last_positive() -> None:
    # Ranked gallery pids 1, 2, 3, 1, 4 for query pid 1: hits at ranks 1 and 4.
    # INP = 2/4 = 0.5; AP = (1/1 + 2/4)/2 = 0.75; CMC all ones.
    dist = np.array([[0.1, 0.2, 0.3, 0.4, 0.5]])
    result = evaluate_regdb(dist, [1], [1, 2, 3, 1, 4], max_rank=5)
    assert result.mINP == pytest.approx(0.5)
    assert result.mAP == pytest.approx(0.75)
    np.testing.assert_allclose(result.cmc, np.ones(5))


def test_ties_keep_gallery_order() -> None:
    dist = np.array([[0.5, 0.5]])
    assert evaluate_regdb(dist, [1], [2, 1], max_rank=1).cmc[0] == 0.0
    assert evaluate_regdb(dist, [1], [1, 2], max_rank=1).cmc[0] == 1.0


def test_cmc_is_one_beyond_the_gallery_length() -> None:
    result = evaluate_regdb(np.array([[0.2, 0.1]]), [1], [1, 2], max_rank=20)
    assert result.cmc.shape == (20,)
    np.testing.assert_allclose(result.cmc, [0.0] + [1.0] * 19)


def test_no_valid_query_raises() -> None:
    with pytest.raises(ValueError, match="no valid query"):
        evaluate_regdb(np.array([[0.1, 0.2]]), [9], [1, 2])
    with pytest.raises(ValueError, match="no valid query"):
        evaluate_sysu(np.array([[0.1]]), [1], [1], [3], [2])


def test_mismatched_shapes_raise() -> None:
    with pytest.raises(ValueError, match="distmat shape"):
        evaluate_regdb(np.zeros((2, 3)), [1, 2], [1, 2])
    with pytest.raises(ValueError, match="camids"):
        evaluate_sysu(np.zeros((1, 2)), [1], [1, 2], [3], [1])


def test_torch_inputs_give_the_numpy_result() -> None:
    rng = np.random.default_rng(0)
    dist = rng.random((6, 9))
    q_pids, g_pids = rng.integers(0, 3, 6), rng.integers(0, 3, 9)
    q_cams, g_cams = rng.choice([3, 6], 6), rng.choice([1, 2, 4, 5], 9)
    from_numpy = evaluate_sysu(dist, q_pids, g_pids, q_cams, g_cams)
    from_torch = evaluate_sysu(*(torch.as_tensor(a) for a in (dist, q_pids, g_pids, q_cams, g_cams)))
    assert_same(from_torch, from_numpy)


@pytest.mark.parametrize("seed", range(6))
def test_sysu_agrees_with_reference_on_random_inputs(seed: int) -> None:
    rng = np.random.default_rng(seed)
    num_q, num_g = 40, 60
    # Query ids range wider than gallery ids so some queries have no positive at all.
    q_pids, g_pids = rng.integers(0, 10, num_q), rng.integers(0, 8, num_g)
    q_cams, g_cams = rng.choice([3, 6], num_q), rng.choice([1, 2, 4, 5], num_g)
    dist = rng.random((num_q, num_g))
    expected = reference_metrics(dist, q_pids, g_pids, q_cams, g_cams, max_rank=20)
    assert_same(evaluate_sysu(dist, q_pids, g_pids, q_cams, g_cams, max_rank=20), expected)


@pytest.mark.parametrize("seed", range(6))
def test_regdb_agrees_with_reference_on_random_inputs(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    num_q, num_g = 40, 60
    q_pids, g_pids = rng.integers(0, 10, num_q), rng.integers(0, 8, num_g)
    dist = rng.random((num_q, num_g))
    expected = reference_metrics(dist, q_pids, g_pids, None, None, max_rank=20)
    assert_same(evaluate_regdb(dist, q_pids, g_pids, max_rank=20), expected)


def test_many_ties_are_resolved_by_gallery_order_like_a_stable_sort() -> None:
    # Three distinct distances over 200 gallery images: ties everywhere, so an unstable sort would reorder
    # them; the reference uses Python's stable sorted().
    rng = np.random.default_rng(7)
    q_pids, g_pids = rng.integers(0, 20, 10), rng.integers(0, 20, 200)
    q_cams, g_cams = rng.choice([3, 6], 10), rng.choice([1, 2, 4, 5], 200)
    dist = rng.integers(0, 3, (10, 200)) / 10.0
    assert_same(evaluate_regdb(dist, q_pids, g_pids), reference_metrics(dist, q_pids, g_pids, None, None, 20))
    assert_same(
        evaluate_sysu(dist, q_pids, g_pids, q_cams, g_cams),
        reference_metrics(dist, q_pids, g_pids, q_cams, g_cams, 20),
    )
