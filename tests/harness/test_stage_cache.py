"""The file stage cache: round trips, counts hits and misses, and treats a damaged entry as a miss that the
pipeline recomputes."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest
import torch

from harness.stage_cache import FileStageStore

VALUE = {"model": {"w": torch.arange(6.0).reshape(2, 3)}, "history": [{"pseudo": np.array([0, 1, -1])}]}


def _load_or_compute(store: FileStageStore, compute: Callable[[], Any]) -> Any:
    """What the pipeline does with a store: use the entry when it loads, else compute and save."""
    value = store.load("A", "key1")
    if value is None:
        value = compute()
        store.save("A", "key1", value)
    return value


def _same(a: dict, b: dict) -> bool:
    return torch.equal(a["model"]["w"], b["model"]["w"]) and np.array_equal(
        a["history"][0]["pseudo"], b["history"][0]["pseudo"]
    )


def test_saved_entries_load_back_and_count_as_hits(tmp_path: Path) -> None:
    store = FileStageStore(tmp_path)
    assert store.load("A", "key1") is None
    store.save("A", "key1", VALUE)
    assert _same(store.load("A", "key1"), VALUE)
    assert (tmp_path / "A" / "key1.pt").is_file()
    assert store.stats.as_dict()["hits"] == 1 and store.stats.as_dict()["misses"] == 1
    assert not [p for p in (tmp_path / "A").iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated copy
        lambda data: data[:-1] + bytes([data[-1] ^ 0xFF]),  # one flipped byte
        lambda data: b"",  # empty file
        lambda data: b"not a cache entry at all",
    ],
)
def test_a_damaged_entry_is_detected_deleted_and_recomputed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage: Callable[[bytes], bytes]
) -> None:
    store = FileStageStore(tmp_path)
    store.save("A", "key1", VALUE)
    path = tmp_path / "A" / "key1.pt"
    path.write_bytes(damage(path.read_bytes()))
    recomputed = []

    def compute() -> dict:
        recomputed.append(True)
        return VALUE

    with caplog.at_level(logging.WARNING, logger="harness.stage_cache"):
        value = _load_or_compute(store, compute)
    assert recomputed and _same(value, VALUE)
    assert "unreadable" in caplog.text
    assert store.stats.corrupt["A"] == 1
    assert _same(FileStageStore(tmp_path).load("A", "key1"), VALUE)  # the recomputed entry replaced it


def test_names_that_are_not_plain_file_names_are_refused(tmp_path: Path) -> None:
    store = FileStageStore(tmp_path)
    with pytest.raises(ValueError, match="stage cache names"):
        store.save("A", "../escape", VALUE)
