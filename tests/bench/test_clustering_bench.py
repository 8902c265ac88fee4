"""Group `clustering`: the exact kNN search (the floor), the k-reciprocal Jaccard distance (plain per modality,
modality-balanced on the pooled set), DBSCAN, and the whole pseudo-labelling step (Jaccard + DBSCAN).

Every benchmark checks its result, records N, D, threads and device, its floor (the kNN search alone on the
same rows, k = k1 + 1) with its ratio to it, and the peak memory of one run in a fresh process.

The Jaccard and DBSCAN benchmarks time the library functions at their defaults (every overlapping pair
stored, the most work); the pseudo-labelling benchmark times the pipeline's own entry point, with whatever
shortcuts it takes (such as dropping pairs beyond eps), because that is the cost a training epoch pays.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from tests.bench import steps
from tests.bench.cache import SessionCache
from tests.bench.cases import FEATURE_DIM, ClusteringCase, DatasetSpec
from tests.bench.checks import check_distance, check_knn, check_labels
from tests.bench.data import SyntheticFeatures
from tests.bench.devices import CPU
from tests.bench.floor import FloorTimes
from tests.bench.memory import InputFiles, step_peak
from tests.bench.recording import base_info, median_seconds, record_floor

pytestmark = pytest.mark.benchmark(group="clustering")

FeaturesOf = Callable[[DatasetSpec], SyntheticFeatures]
RoundsFor = Callable[[str], dict[str, int]]


@pytest.fixture
def knn_device(bench_device: str) -> str:
    """The device the kNN search runs on: faiss on the CPU, torch's blocked product and top-k on CUDA."""
    return bench_device


def _rows(case: ClusteringCase, features_of: FeaturesOf) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(features, identities, modality or None) of the case's rows; modality only for the balanced Jaccard."""
    data = features_of(case.dataset)
    rows = data.rows(case.modalities)
    return data.features[rows], data.identity[rows], data.modality[rows] if case.balanced else None


def _describe(case: ClusteringCase, device: str) -> dict[str, object]:
    return {
        **base_info(case.n, FEATURE_DIM, device, threads_of="faiss"),
        "case": case.name,
        "k1": case.k1,
        "k2": case.k2,
        "eps": case.eps,
        "balanced": case.balanced,
    }


def _floor(case: ClusteringCase, device: str, x: np.ndarray, floors: FloorTimes) -> float:
    return floors.median((case.name, device), lambda: steps.knn_floor(x, case.floor_k, device))


def _features_file(case: ClusteringCase, x: np.ndarray, input_files: InputFiles) -> Path:
    return input_files.path(f"{case.dataset.name}-{'-'.join(case.modalities)}", x)


def test_knn_floor_finds_exact_neighbours(
    benchmark: BenchmarkFixture,
    clustering_case: ClusteringCase,
    knn_device: str,
    features_of: FeaturesOf,
    floors: FloorTimes,
    rounds_for: RoundsFor,
    input_files: InputFiles,
    measure_memory: bool,
) -> None:
    case = clustering_case
    x, _, _ = _rows(case, features_of)
    sims, idx = benchmark.pedantic(steps.knn_floor, args=(x, case.floor_k, knn_device), **rounds_for(case.scale))

    check_knn(x, sims, idx, case.floor_k)
    benchmark.extra_info.update(_describe(case, knn_device), k=case.floor_k)
    median = median_seconds(benchmark)
    if median is not None:
        floors.record((case.name, knn_device), median)
    if measure_memory:
        peak = step_peak(steps.knn_floor, _features_file(case, x, input_files), case.floor_k, knn_device)
        benchmark.extra_info.update(peak.as_extra_info())


def test_jaccard_distance_links_same_identity_within_eps(
    benchmark: BenchmarkFixture,
    clustering_case: ClusteringCase,
    knn_device: str,
    features_of: FeaturesOf,
    floors: FloorTimes,
    cache: SessionCache,
    rounds_for: RoundsFor,
    input_files: InputFiles,
    measure_memory: bool,
) -> None:
    case = clustering_case
    x, identity, modality = _rows(case, features_of)
    distance = benchmark.pedantic(
        steps.jaccard, args=(x, case.k1, case.k2, modality, knn_device), **rounds_for(case.scale)
    )

    check_distance(distance, identity, case.eps)
    cache.put(("distance", case.name), distance)
    benchmark.extra_info.update(_describe(case, knn_device), nnz=int(distance.nnz))
    record_floor(benchmark, lambda: _floor(case, knn_device, x, floors))
    if measure_memory:
        features_file = _features_file(case, x, input_files)
        peak = step_peak(steps.jaccard, features_file, case.k1, case.k2, modality, knn_device)
        benchmark.extra_info.update(peak.as_extra_info())


def test_dbscan_labels_recover_identities(
    benchmark: BenchmarkFixture,
    clustering_case: ClusteringCase,
    features_of: FeaturesOf,
    floors: FloorTimes,
    cache: SessionCache,
    input_files: InputFiles,
    measure_memory: bool,
) -> None:
    case = clustering_case
    x, identity, modality = _rows(case, features_of)
    distance = cache.get(("distance", case.name), lambda: steps.jaccard(x, case.k1, case.k2, modality, CPU))
    # Milliseconds: pytest-benchmark's own calibration picks the rounds.
    labels = benchmark(steps.dbscan, distance, case.eps)

    ari = check_labels(labels, identity, case.min_ari)
    benchmark.extra_info.update(_describe(case, CPU), nnz=int(distance.nnz), ari=ari)
    record_floor(benchmark, lambda: _floor(case, CPU, x, floors))
    if measure_memory:
        peak = step_peak(steps.dbscan, input_files.path(f"distance-{case.name}", distance), case.eps)
        benchmark.extra_info.update(peak.as_extra_info())


def test_pseudo_labelling_recovers_identities(
    benchmark: BenchmarkFixture,
    clustering_case: ClusteringCase,
    knn_device: str,
    features_of: FeaturesOf,
    floors: FloorTimes,
    rounds_for: RoundsFor,
    input_files: InputFiles,
    measure_memory: bool,
) -> None:
    case = clustering_case
    x, identity, modality = _rows(case, features_of)
    labels = benchmark.pedantic(
        steps.pseudo_labels, args=(x, case.k1, case.k2, modality, case.eps, knn_device), **rounds_for(case.scale)
    )

    ari = check_labels(labels, identity, case.min_ari)
    clusters = int(labels.max()) + 1
    benchmark.extra_info.update(_describe(case, knn_device), ari=ari, clusters=clusters)
    record_floor(benchmark, lambda: _floor(case, knn_device, x, floors))
    if measure_memory:
        features_file = _features_file(case, x, input_files)
        peak = step_peak(steps.pseudo_labels, features_file, case.k1, case.k2, modality, case.eps, knn_device)
        benchmark.extra_info.update(peak.as_extra_info())
