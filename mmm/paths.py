"""Where generated data and caches go by default (overridable with MMM_CACHE_DIR)."""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> Path:
    """The folder for synthetic datasets and decoded-image caches."""
    return Path(os.environ.get("MMM_CACHE_DIR", Path.cwd() / ".cache" / "mmm"))
