"""What every benchmark records in `benchmark.extra_info`, under the keys reports/benchmarks.py reads:
N, D, threads, device, and for clustering floor_median and ratio_to_floor; peak_mb from memory.py;
images_per_s for training. Other keys (torch_threads, faiss_threads, k1, ...) are context for readers."""

from __future__ import annotations

from typing import Any, Callable

from pytest_benchmark.fixture import BenchmarkFixture

from tests.bench.devices import device_label, thread_counts


def base_info(n: int, d: int, device: str, threads_of: str) -> dict[str, Any]:
    """N, D, device and thread counts; `threads` is the pool of the library doing the heavy work
    ("faiss" for clustering, whose cost is the kNN search; "torch" for matching and training)."""
    counts = thread_counts()
    return {"N": n, "D": d, "device": device_label(device), "threads": counts[f"{threads_of}_threads"], **counts}


def median_seconds(benchmark: BenchmarkFixture) -> float | None:
    """The median of the timed rounds, or None when timing is off (--benchmark-disable)."""
    return float(benchmark.stats.stats.median) if benchmark.stats else None


def record_floor(benchmark: BenchmarkFixture, floor_median: Callable[[], float]) -> None:
    """floor_median (seconds) and this benchmark's median as a multiple of it. The floor is asked for only
    when there is a median to compare (not under --benchmark-disable), since it may have to be timed."""
    median = median_seconds(benchmark)
    if median is not None:
        floor = floor_median()
        benchmark.extra_info["floor_median"] = floor
        benchmark.extra_info["ratio_to_floor"] = median / floor
