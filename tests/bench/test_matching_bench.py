"""Group `matching`: MMLM's batched sub-centre k-means, the Chamfer cost, the assignment (Hungarian and greedy)
and the whole MMLM step, on labelled features with a planted visible-to-infrared cluster correspondence.

Every benchmark checks its result (k-means inertia against sklearn, cost entries against the formula, the
planted correspondence recovered), records N, D, threads and device, and the peak memory of one run in a
fresh process. N is the number of rows the step takes in: feature rows, memory rows, or cost rows.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import pytest
import torch
from pytest_benchmark.fixture import BenchmarkFixture

from tests.bench import steps
from tests.bench.cache import SessionCache
from tests.bench.cases import FEATURE_DIM, MatchingCase
from tests.bench.checks import check_chamfer, check_matching, check_subcentres
from tests.bench.data import MatchingProblem
from tests.bench.devices import CPU
from tests.bench.memory import InputFiles, step_peak
from tests.bench.recording import base_info

pytestmark = pytest.mark.benchmark(group="matching")

ProblemOf = Callable[[MatchingCase], MatchingProblem]
RoundsFor = Callable[[str], dict[str, int]]
Centres = tuple[torch.Tensor, torch.Tensor]


def _describe(case: MatchingCase, n: int, device: str) -> dict[str, object]:
    return {
        **base_info(n, FEATURE_DIM, device, threads_of="torch"),
        "case": case.name,
        "clusters_visible": case.clusters_visible,
        "clusters_infrared": case.clusters_infrared,
        "n_memories": case.n_memories,
        "kmeans_iters": steps.KMEANS_ITERS,
    }


def _on(device: str, *arrays: np.ndarray) -> list[torch.Tensor]:
    """The arrays as tensors on `device` (on the CPU they share the numpy memory)."""
    return [torch.as_tensor(array, device=device) for array in arrays]


def _centres(case: MatchingCase, problem: MatchingProblem, cache: SessionCache) -> Centres:
    """The sub-centres of both modalities on the CPU, from the sub-centre benchmark when it ran."""
    return cache.get(
        ("centres", case.name),
        lambda: steps.both_subcentres(
            problem.features_v, problem.labels_v, problem.features_r, problem.labels_r, case.n_memories, CPU
        ),
    )


def _cost(case: MatchingCase, problem: MatchingProblem, cache: SessionCache) -> np.ndarray:
    """The Chamfer cost as float64 numpy, from the cost benchmark when it ran."""
    return cache.get(("cost", case.name), lambda: steps.chamfer(*_centres(case, problem, cache), CPU).numpy())


def _record_features_step_peak(
    benchmark: BenchmarkFixture,
    step: Callable[..., object],
    case: MatchingCase,
    problem: MatchingProblem,
    input_files: InputFiles,
    device: str,
) -> None:
    """Peak memory of `step` on the case's visible and infrared features and labels, in a fresh process."""
    peak = step_peak(
        step,
        input_files.path(f"{case.name}-features-v", problem.features_v),
        problem.labels_v,
        input_files.path(f"{case.name}-features-r", problem.features_r),
        problem.labels_r,
        case.n_memories,
        device,
    )
    benchmark.extra_info.update(peak.as_extra_info())


def test_subcentres_reach_kmeans_optimum(
    benchmark: BenchmarkFixture,
    matching_case: MatchingCase,
    bench_device: str,
    problem_of: ProblemOf,
    cache: SessionCache,
    rounds_for: RoundsFor,
    input_files: InputFiles,
    measure_memory: bool,
) -> None:
    case, problem = matching_case, problem_of(matching_case)
    inputs = _on(bench_device, problem.features_v, problem.labels_v, problem.features_r, problem.labels_r)
    centres_v, centres_r = benchmark.pedantic(
        steps.both_subcentres, args=(*inputs, case.n_memories, bench_device), **rounds_for(case.scale)
    )

    check_subcentres(centres_v, problem.features_v, problem.labels_v, case.n_memories)
    check_subcentres(centres_r, problem.features_r, problem.labels_r, case.n_memories)
    if bench_device == CPU:
        cache.put(("centres", case.name), (centres_v, centres_r))
    benchmark.extra_info.update(_describe(case, case.n, bench_device))
    if measure_memory:
        _record_features_step_peak(benchmark, steps.both_subcentres, case, problem, input_files, bench_device)


def test_chamfer_cost_matches_direct_formula(
    benchmark: BenchmarkFixture,
    matching_case: MatchingCase,
    bench_device: str,
    problem_of: ProblemOf,
    cache: SessionCache,
    rounds_for: RoundsFor,
    input_files: InputFiles,
    measure_memory: bool,
) -> None:
    case = matching_case
    centres_v, centres_r = _centres(case, problem_of(case), cache)
    inputs = [centres.to(bench_device) for centres in (centres_v, centres_r)]
    cost = benchmark.pedantic(steps.chamfer, args=(*inputs, bench_device), **rounds_for(case.scale))

    check_chamfer(cost, centres_v, centres_r)
    if bench_device == CPU:
        cache.put(("cost", case.name), cost.numpy())
    memory_rows = (case.clusters_visible + case.clusters_infrared) * case.n_memories
    benchmark.extra_info.update(_describe(case, memory_rows, bench_device))
    if measure_memory:
        peak = step_peak(
            steps.chamfer,
            input_files.path(f"{case.name}-centres-v", centres_v.numpy()),
            input_files.path(f"{case.name}-centres-r", centres_r.numpy()),
            bench_device,
        )
        benchmark.extra_info.update(peak.as_extra_info())


@pytest.mark.parametrize("solver", ["hungarian", "greedy"])
def test_match_clusters_recovers_planted_pairs(
    benchmark: BenchmarkFixture,
    matching_case: MatchingCase,
    solver: str,
    problem_of: ProblemOf,
    cache: SessionCache,
    input_files: InputFiles,
    measure_memory: bool,
) -> None:
    case, problem = matching_case, problem_of(matching_case)
    cost = _cost(case, problem, cache)
    # Milliseconds or less: pytest-benchmark's own calibration picks the rounds.
    matching = benchmark(steps.match, cost, solver)

    accuracy = check_matching(matching, problem.planted, case.min_accuracy)
    benchmark.extra_info.update(_describe(case, case.clusters_visible, CPU), solver=solver, accuracy=accuracy)
    if measure_memory:
        peak = step_peak(steps.match, input_files.path(f"{case.name}-cost", cost), solver)
        benchmark.extra_info.update(peak.as_extra_info())


def test_mmlm_step_recovers_planted_pairs(
    benchmark: BenchmarkFixture,
    matching_case: MatchingCase,
    bench_device: str,
    problem_of: ProblemOf,
    rounds_for: RoundsFor,
    input_files: InputFiles,
    measure_memory: bool,
) -> None:
    case, problem = matching_case, problem_of(matching_case)
    features_v, features_r = _on(bench_device, problem.features_v, problem.features_r)
    result = benchmark.pedantic(
        steps.mmlm,
        args=(features_v, problem.labels_v, features_r, problem.labels_r, case.n_memories, bench_device),
        **rounds_for(case.scale),
    )

    accuracy = check_matching(result.matching, problem.planted, case.min_accuracy)
    kept = problem.labels_v >= 0
    assert (result.labels_v[~kept] == -1).all(), "visible outliers must stay -1"
    assert (result.labels_v[kept] == result.matching[problem.labels_v[kept]]).all(), "labels not transferred"
    benchmark.extra_info.update(_describe(case, case.n, bench_device), solver="hungarian", accuracy=accuracy)
    if measure_memory:
        _record_features_step_peak(benchmark, steps.mmlm, case, problem, input_files, bench_device)
