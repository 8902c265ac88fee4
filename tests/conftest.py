"""Shared pytest fixtures: the device to test on (MMM_TEST_DEVICE, default cpu) and a session cache folder.

The benchmarks' --bench-scale option is registered here, at the root, so that it is accepted whichever test
paths the command line names."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Iterator

import pytest
import torch

from tests.availability import device_under_test
from tests.bench.options import add_bench_options


def pytest_addoption(parser: pytest.Parser) -> None:
    add_bench_options(parser)


@pytest.fixture(scope="session")
def device() -> torch.device:
    return torch.device(device_under_test())


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder shared by the whole test session, so a synthetic pair is generated once."""
    return tmp_path_factory.mktemp("mmm-cache")


@pytest.fixture()
def restore_logging() -> Iterator[None]:
    """main() configures logging for a process; put the test process's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    harness_level = logging.getLogger("harness").level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("harness").setLevel(harness_level)
