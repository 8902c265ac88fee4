"""Options, parametrisation and session caches of the benchmarks (run: pytest tests/bench --benchmark-only).

--bench-scale picks the problem sizes: `regdb` (default, a few minutes on 2 cores), `sysu` (the SYSU-MM01
sizes and the ResNet-50 CPU training step; tens of minutes) or `all`. Cases are parametrised by name and
the session-scoped caches hold each feature set and intermediate once, so a case's benchmarks share them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from mmm.choices import PRECISIONS
from tests.bench.cache import SessionCache
from tests.bench.cases import (
    CLUSTERING_CASES,
    DEFAULT_ROUNDS,
    MATCHING_CASES,
    TRAINING_CASES,
    WARMUP_ROUNDS,
    ClusteringCase,
    DatasetSpec,
    MatchingCase,
    TrainingCase,
    selected_scales,
)
from tests.bench.data import MatchingProblem, SyntheticFeatures, matching_problem, synthetic_features
from tests.bench.devices import CPU, CUDA, CUDA_ONLY, device_params
from tests.bench.floor import FloorTimes
from tests.bench.memory import InputFiles, memory_measurable
from tests.bench.training import gemm_gflops

# Runs of the floor search when a clustering benchmark has to time its floor itself.
FLOOR_RUNS = 3


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise case fixtures by the names of the cases the selected scale runs."""
    scales = selected_scales(metafunc.config.getoption("bench_scale"))
    for fixture, cases in (("clustering_case", CLUSTERING_CASES), ("matching_case", MATCHING_CASES)):
        if fixture in metafunc.fixturenames:
            names = [name for name, case in cases.items() if case.scale in scales]
            metafunc.parametrize(fixture, names, indirect=True, scope="session")
    if "training_case" in metafunc.fixturenames:
        metafunc.parametrize(["training_case", "training_device", "precision"], _training_params(scales), indirect=True)


def _training_params(scales: tuple[str, ...]) -> list[Any]:
    """(case, device, precision) triples: CUDA variants at every scale (run with MMM_TEST_DEVICE=cuda, skipped and
    named otherwise), CPU ones at their scale unless the case says why not; both precisions each."""
    params = []
    for name, case in TRAINING_CASES.items():
        for precision in PRECISIONS:
            if case.scale in scales:
                marks = [pytest.mark.skip(reason=case.no_cpu)] if case.no_cpu else []
                params.append(pytest.param(name, CPU, precision, id=f"{name}-{CPU}-{precision}", marks=marks))
            params.append(pytest.param(name, CUDA, precision, id=f"{name}-{CUDA}-{precision}", marks=[CUDA_ONLY]))
    return params


@pytest.fixture(scope="session")
def clustering_case(request: pytest.FixtureRequest) -> ClusteringCase:
    return CLUSTERING_CASES[request.param]


@pytest.fixture(scope="session")
def matching_case(request: pytest.FixtureRequest) -> MatchingCase:
    return MATCHING_CASES[request.param]


@pytest.fixture
def training_case(request: pytest.FixtureRequest) -> TrainingCase:
    return TRAINING_CASES[request.param]


@pytest.fixture
def training_device(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def precision(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def gemm_gflops_of(cache: SessionCache) -> Callable[[str, str], float]:
    """The GEMM rate of a device in a precision (GFLOP/s), measured once per session, in the same run as the
    training benchmarks it is set beside."""
    return lambda device, precision: cache.get(("gemm", device, precision), lambda: gemm_gflops(device, precision))


@pytest.fixture(params=device_params())
def bench_device(request: pytest.FixtureRequest) -> str:
    """The device axis of the clustering and matching benchmarks: cpu, and cuda where there is one."""
    return request.param


@pytest.fixture(scope="session")
def cache() -> SessionCache:
    return SessionCache()


@pytest.fixture(scope="session")
def features_of(cache: SessionCache) -> Callable[[DatasetSpec], SyntheticFeatures]:
    """The synthetic feature set of a dataset spec, generated once per session."""
    return lambda spec: cache.get(("features", spec), lambda: synthetic_features(spec))


@pytest.fixture(scope="session")
def problem_of(cache: SessionCache) -> Callable[[MatchingCase], MatchingProblem]:
    """The planted matching problem of a case, generated once per session."""
    return lambda case: cache.get(("problem", case.name), lambda: matching_problem(case))


@pytest.fixture(scope="session")
def floors() -> FloorTimes:
    return FloorTimes(FLOOR_RUNS)


@pytest.fixture(scope="session")
def input_files(tmp_path_factory: pytest.TempPathFactory) -> InputFiles:
    return InputFiles(Path(tmp_path_factory.mktemp("bench-inputs")))


@pytest.fixture(scope="session")
def measure_memory(request: pytest.FixtureRequest) -> bool:
    """Whether benchmarks measure their peak memory (not with --bench-no-memory, nor off Linux)."""
    return memory_measurable() and not request.config.getoption("bench_no_memory")


@pytest.fixture(scope="session")
def rounds_for(request: pytest.FixtureRequest) -> Callable[[str], dict[str, int]]:
    """pedantic() keyword arguments (rounds, warmup_rounds) for a scale, --bench-rounds taking precedence."""
    override = request.config.getoption("bench_rounds")

    def rounds(scale: str) -> dict[str, int]:
        return {"rounds": override or DEFAULT_ROUNDS[scale], "warmup_rounds": WARMUP_ROUNDS[scale], "iterations": 1}

    return rounds
