"""The command-line options of the benchmarks (registered by the root tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.bench.cases import DEFAULT_ROUNDS, SCALES


def add_bench_options(parser: pytest.Parser) -> None:
    """--bench-scale, --bench-rounds and --bench-no-memory."""
    group = parser.getgroup("mmm-bench", "MMM benchmarks (tests/bench)")
    group.addoption(
        "--bench-scale",
        choices=(*SCALES, "all"),
        default="regdb",
        help="problem sizes: regdb (default, minutes), sysu (SYSU-MM01 sizes and the CPU ResNet-50 step, "
        "tens of minutes on 2 cores) or all",
    )
    group.addoption(
        "--bench-rounds",
        type=int,
        default=None,
        help=f"timed rounds of the slow benchmarks (default per scale: {DEFAULT_ROUNDS}); "
        "sub-second steps calibrate their own rounds",
    )
    group.addoption(
        "--bench-no-memory",
        action="store_true",
        default=False,
        help="skip the peak-memory child processes (faster; peak_mb is then not recorded)",
    )
