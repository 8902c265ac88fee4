"""The smoke synthetic pair and tasks built from it, shared by the pipeline tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mmm.data.regdb import read_regdb
from mmm.data.synthetic import ensure_synthetic_pair, smoke_spec
from mmm.data.sysu import read_sysu
from mmm.pipeline.tasks import Task, regdb_task, sysu_task


@pytest.fixture(scope="session")
def smoke_roots(session_cache: Path) -> tuple[Path, Path]:
    return ensure_synthetic_pair(session_cache, smoke_spec())


@pytest.fixture(scope="session")
def sysu_smoke_task(smoke_roots: tuple[Path, Path]) -> Task:
    return sysu_task(read_sysu(smoke_roots[0]), eval_trials=2)


@pytest.fixture(scope="session")
def regdb_smoke_task(smoke_roots: tuple[Path, Path]) -> Task:
    return regdb_task(read_regdb(smoke_roots[1]), trial=1)


class DictStageStore:
    """An in-memory StageStore: what the harness keeps on disk, kept in a dict."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], Any] = {}

    def load(self, stage: str, key: str) -> Any | None:
        return self.entries.get((stage, key))

    def save(self, stage: str, key: str, value: Any) -> None:
        self.entries[(stage, key)] = value
