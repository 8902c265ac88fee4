"""Every stored result records the code that made it: stage-cache entries and reference records carry the code
identity (mmm.code_identity) beside their value; trials carry it in their claim (tests/harness/test_claims.py)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import torch

from harness.references import FLOOR, ReferenceStore
from harness.stage_cache import MAGIC, FileStageStore
from mmm.code_identity import code_identity
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.result import RunResult
from tests.harness.fakes import FakeTask


def test_a_stage_cache_entry_records_the_code_that_made_it(tmp_path: Path) -> None:
    store = FileStageStore(tmp_path)
    store.save("dcl", "key1", {"model": {"w": torch.ones(2)}})
    blob = store.path("dcl", "key1").read_bytes()
    payload = torch.load(io.BytesIO(blob[len(MAGIC) + 32 :]), weights_only=False)
    assert payload["code"] == code_identity().as_dict()
    assert torch.equal(store.load("dcl", "key1")["model"]["w"], torch.ones(2))


def test_a_reference_record_records_the_code_that_made_it(tmp_path: Path) -> None:
    def untrained(config: PipelineConfig, task: FakeTask, **hooks: object) -> RunResult:
        return RunResult(metrics={"all": {"R1": 1.0, "mAP": 2.0}}, trial_metrics={}, stage_seconds={})

    store = ReferenceStore(tmp_path, FLOOR, untrained)
    floor = store.get(
        PipelineConfig(backbone="resnet18_small", pretrained="none"),
        FakeTask("sysu", "fingerprint"),
        device=torch.device("cpu"),
        cache_dir=tmp_path,
    )
    record = json.loads(store.path(floor.key).read_text())
    assert record["code"] == code_identity().as_dict()
