"""Shared pytest fixtures: the device to test on (MMM_TEST_DEVICE, default cpu) and a session cache folder."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="session")
def device() -> torch.device:
    return torch.device(os.environ.get("MMM_TEST_DEVICE", "cpu"))


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder shared by the whole test session, so a synthetic pair is generated once."""
    return tmp_path_factory.mktemp("mmm-cache")
