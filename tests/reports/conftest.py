"""Reports rendered once per session from the fixture study (rendering draws several figures, so tests that
only read a report share it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reports.render import render_report
from tests.reports.study_fixture import MISMATCHES, STUDY, write_benchmark_json, write_study


@pytest.fixture(scope="session")
def benchmark_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_benchmark_json(tmp_path_factory.mktemp("bench") / "benchmark.json")


@pytest.fixture(scope="session")
def synthetic_report(tmp_path_factory: pytest.TempPathFactory, benchmark_json: Path) -> Path:
    out_dir = tmp_path_factory.mktemp("synthetic")
    write_study(out_dir, "synthetic")
    return render_report(out_dir, STUDY, benchmark_json)


@pytest.fixture(scope="session")
def real_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out_dir = tmp_path_factory.mktemp("real")
    write_study(out_dir, "real")
    return render_report(out_dir, STUDY)


@pytest.fixture(scope="session")
def synthetic_html(synthetic_report: Path) -> str:
    return synthetic_report.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def real_html(real_report: Path) -> str:
    return real_report.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def mismatched_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real-data report whose SYSU-MM01 tree the data check found wrong."""
    out_dir = tmp_path_factory.mktemp("mismatched")
    write_study(out_dir, "real", mismatches=MISMATCHES)
    return render_report(out_dir, STUDY)
