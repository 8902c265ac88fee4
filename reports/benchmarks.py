"""A timing table from a pytest-benchmark JSON file (`--benchmark-json`): one row per benchmark with its
problem size, device, median and IQR, ratio to its floor and peak memory; training steps add images/s, the
GFLOP/s they achieve and the machine's float32 GEMM GFLOP/s measured in the same run.

Problem size and threads come from the benchmark's extra_info, else from its parametrize params (keys
N/n, D/d/dim, threads/num_threads). The floor of a benchmark is, in order: extra_info 'floor_median'
(seconds); extra_info 'floor' naming another benchmark in the file; or the benchmark whose name is this one's
with '_floor' before the parameter brackets (test_knn[1000] -> test_knn_floor[1000])."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

COLUMNS = [
    "group",
    "name",
    "N",
    "D",
    "threads",
    "device",
    "median s",
    "IQR s",
    "ratio to floor",
    "peak MB",
    "images/s",
    "GFLOP/s",
    "GEMM GFLOP/s",
]
_SIZE_KEYS = {"N": ("N", "n"), "D": ("D", "d", "dim"), "threads": ("threads", "num_threads", "n_threads")}


def benchmark_table(json_path: Path | str) -> pd.DataFrame:
    """The timing table, benchmarks grouped by group in file order; absent values are NaN/None."""
    path = Path(json_path)
    benchmarks = _read_benchmarks(path)
    medians = {}
    for bench in benchmarks:
        medians[bench["name"]] = _stat(bench, "median", path)
        medians.setdefault(bench.get("fullname", bench["name"]), medians[bench["name"]])
    rows = []
    for bench in benchmarks:
        extra = bench.get("extra_info") or {}
        median = _stat(bench, "median", path)
        floor = _floor_median(bench, medians)
        row: dict[str, Any] = {"group": bench.get("group"), "name": bench["name"]}
        row.update({column: _size(bench, keys) for column, keys in _SIZE_KEYS.items()})
        row.update(
            {
                "device": extra.get("device"),
                "median s": median,
                "IQR s": _stat(bench, "iqr", path),
                "ratio to floor": median / floor if floor else math.nan,
                "peak MB": extra.get("peak_mb", math.nan),
                "images/s": extra.get("images_per_s", math.nan),
                "GFLOP/s": extra.get("achieved_gflops", math.nan),
                "GEMM GFLOP/s": extra.get("gemm_gflops", math.nan),
            }
        )
        rows.append(row)
    table = pd.DataFrame(rows, columns=COLUMNS)
    group_order = {group: index for index, group in enumerate(dict.fromkeys(table["group"]))}
    ordered = table.sort_values("group", key=lambda groups: groups.map(group_order), kind="stable")
    return ordered.reset_index(drop=True)


def _read_benchmarks(path: Path) -> list[dict[str, Any]]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"{path}: cannot be read ({error.strerror or error})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path.name}: not valid JSON ({error})") from error
    benchmarks = document.get("benchmarks") if isinstance(document, dict) else None
    if not isinstance(benchmarks, list):
        raise ValueError(f"{path.name}: missing key 'benchmarks' (expected pytest-benchmark --benchmark-json output)")
    for number, bench in enumerate(benchmarks, start=1):
        if not isinstance(bench, dict) or "name" not in bench:
            raise ValueError(f"{path.name}: benchmark {number} is not an object with a 'name'")
        if not isinstance(bench.get("stats"), dict) or not isinstance(bench.get("extra_info") or {}, dict):
            raise ValueError(f"{path.name}: benchmark {bench['name']!r} has no 'stats' object")
    return benchmarks


def _stat(bench: dict[str, Any], key: str, path: Path) -> float:
    stats = bench.get("stats") or {}
    if key not in stats:
        raise ValueError(f"{path.name}: benchmark {bench['name']!r} has no stats {key!r}")
    try:
        return float(stats[key])
    except (TypeError, ValueError):
        raise ValueError(
            f"{path.name}: benchmark {bench['name']!r} has stats {key!r} = {stats[key]!r}, not a number"
        ) from None


def _size(bench: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for source in (bench.get("extra_info") or {}, bench.get("params") or {}):
        for key in keys:
            if key in source:
                return source[key]
    return None


def _floor_median(bench: dict[str, Any], medians: dict[str, float]) -> float | None:
    extra = bench.get("extra_info") or {}
    if "floor_median" in extra:
        return float(extra["floor_median"])
    if "floor" in extra:
        return medians.get(str(extra["floor"]))
    base, bracket, params = bench["name"].partition("[")
    if base.endswith("_floor"):
        return None
    return medians.get(f"{base}_floor{bracket}{params}")
