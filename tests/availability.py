"""Tests that need something outside Python (a database server, a browser, root for a tmpfs): they skip with
the reason on a developer's machine that lacks it, and fail under CI (CI=true), where everything must run."""

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
