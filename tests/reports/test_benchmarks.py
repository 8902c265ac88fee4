"""The timing table read from pytest-benchmark JSON."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from reports.benchmarks import COLUMNS, benchmark_table


def test_table_has_sizes_device_median_iqr_floor_ratio_and_peak(benchmark_json: Path) -> None:
    table = benchmark_table(benchmark_json)
    assert list(table.columns) == COLUMNS
    table = table.set_index("name")
    jaccard = table.loc["test_jaccard[1000-256]"]
    assert (jaccard["group"], jaccard["N"], jaccard["D"], jaccard["threads"]) == ("jaccard", 1000, 256, 2)
    assert jaccard["device"] == "cpu"
    assert jaccard["median s"] == pytest.approx(0.5)
    assert jaccard["IQR s"] == pytest.approx(0.05)
    assert jaccard["ratio to floor"] == pytest.approx(2.5)  # Floor found by the _floor naming convention.
    assert jaccard["peak MB"] == pytest.approx(310.0)


def test_a_training_step_shows_images_per_second_and_its_gflops_beside_the_gemm_rate(benchmark_json: Path) -> None:
    table = benchmark_table(benchmark_json).set_index("name")
    step = table.loc["test_training_step[mobilenet_v2-128x64-cpu]"]
    assert (step["images/s"], step["GFLOP/s"], step["GEMM GFLOP/s"]) == (480.0, 12.0, 60.0)
    assert math.isnan(table.loc["test_jaccard[1000-256]"]["GFLOP/s"])


def test_floor_median_in_extra_info_gives_the_ratio(benchmark_json: Path) -> None:
    hungarian = benchmark_table(benchmark_json).set_index("name").loc["test_hungarian[500]"]
    assert hungarian["ratio to floor"] == pytest.approx(3.0)
    assert (hungarian["N"], hungarian["D"]) == (500, 2048)


def test_floor_benchmark_has_no_ratio_of_its_own(benchmark_json: Path) -> None:
    floor = benchmark_table(benchmark_json).set_index("name").loc["test_jaccard_floor[1000-256]"]
    assert math.isnan(floor["ratio to floor"])
    assert math.isnan(floor["peak MB"])


def test_file_without_benchmarks_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "timings.json"
    path.write_text(json.dumps({"machine_info": {}}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"timings\.json: missing key 'benchmarks'"):
        benchmark_table(path)


def test_benchmark_without_median_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "timings.json"
    path.write_text(json.dumps({"benchmarks": [{"name": "test_x", "stats": {"iqr": 0.1}}]}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"timings\.json: benchmark 'test_x' has no stats 'median'"):
        benchmark_table(path)
