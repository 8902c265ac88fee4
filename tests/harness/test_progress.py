"""Progress display: bars follow cells and stage epochs without disturbing the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cells import Cell
from harness.progress import Display
from harness.queue import WorkerIdentity
from harness.runner import run_cells
from mmm.pipeline.hooks import ProgressEvent
from tests.harness.fakes import FAST_LEASES, fake_environment, fake_ledger, planned, recording_method


def test_bars_track_stages_and_cells(capsys: pytest.CaptureFixture[str]) -> None:
    cell = Cell("smoke", "full", "mmm", "sysu", 0, None)
    with Display(total=2, done=1, bars=True) as display:
        display.cell_started(cell)
        for stage, epochs in (("dcl", 3), ("sca", 2)):
            for epoch in range(epochs):
                display.event(ProgressEvent(stage, epoch, epochs, {"loss": 0.5}))
        display.cell_finished(cell, "complete", 1.0)
    err = capsys.readouterr().err
    assert "cells" in err and "2/2" in err and "stage sca" in err


def test_a_run_with_bars_completes(tmp_path: Path) -> None:
    ledger = fake_ledger(None, tmp_path, "smoke")
    env = fake_environment(recording_method(tmp_path / "log"), tmp_path / "data")
    summary = run_cells(planned(ledger), ledger, env, policy=FAST_LEASES, me=WorkerIdentity.current(), bars=True)
    assert len(summary.completed) == 4
