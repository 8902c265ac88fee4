"""Tests that need something outside Python (a database server, a browser, root for a tmpfs): they skip with
the reason on a developer's machine that lacks it, and fail under CI (CI=true), where everything must run. Tests
that need a CUDA device are the exception (`cuda_only`): they skip, named, wherever MMM_TEST_DEVICE is not cuda."""

from __future__ import annotations

import os

import pytest


def require(condition: bool, reason: str) -> None:
    """Skip with `reason` unless `condition`; under CI the missing thing is a failure, not a skip."""
    if condition:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: this test must run, not skip)")
    pytest.skip(reason)


def device_under_test() -> str:
    """The device the tests that follow MMM_TEST_DEVICE run on ("cpu" unless set)."""
    return os.environ.get("MMM_TEST_DEVICE", "cpu")


# Tests of what only a CUDA device has (pinned copies, cuDNN, bf16 on the GPU). They run with MMM_TEST_DEVICE=cuda
# and skip, naming the reason, everywhere else. Unlike `require`, CI=true does not turn this skip into a failure:
# CI machines have no GPU, and a GPU is not something CI can install.
cuda_only = pytest.mark.skipif(
    device_under_test() != "cuda", reason="needs a CUDA device: run with MMM_TEST_DEVICE=cuda on a machine with one"
)
