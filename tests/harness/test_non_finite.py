"""Non-finite values stopped at the door: a weight file with NaN stops a run before anything trains, in one line
naming the file and the first bad tensor; a loss that turns NaN fails its cell in one line (stage, epoch, step)
with nothing stored from it; NaN features never reach faiss or a metric."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from harness import command as study_command
from harness.spec import StudySpec, Variant
from harness.stage_cache import FileStageStore
from harness.study import main
from mmm.clustering.jaccard import jaccard_distance
from mmm.data.synthetic import ensure_synthetic_pair, smoke_spec
from mmm.data.sysu import read_sysu
from mmm.evaluation.protocols import run_sysu_protocol
from mmm.finite import NonFiniteError, require_finite_losses
from mmm.models.pretrained import mobilenet_weights
from mmm.models.weights import WeightFileError, read_state_dict

pytestmark = pytest.mark.usefixtures("restore_logging")
SMOKE = ["smoke", "--profile", "smoke", "--device", "cpu"]


@pytest.fixture()
def nan_weights(tmp_path: Path) -> Path:
    """The ImageNet MobileNetV2 file of the smoke profile with one tensor gone NaN."""
    state = torch.load(mobilenet_weights().path, map_location="cpu", weights_only=True)
    name = sorted(key for key, value in state.items() if value.is_floating_point())[3]
    state[name] = torch.full_like(state[name], math.nan)
    path = tmp_path / "nan_mobilenet.pt"
    torch.save(state, path)
    return path


def test_a_weight_file_with_nan_is_refused_naming_the_first_bad_tensor(nan_weights: Path) -> None:
    with pytest.raises(WeightFileError, match=r"tensor '.+' holds NaN or inf \(1 of \d+ tensors do\)") as caught:
        read_state_dict(nan_weights)
    assert str(nan_weights) in str(caught.value)


def test_a_run_from_nan_weights_stops_before_training_in_one_line(
    nan_weights: Path, tmp_path: Path, session_cache: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("MMM_CACHE_DIR", str(session_cache))
    out = tmp_path / "runs"
    assert main([*SMOKE, "--out", str(out), "--pretrained", str(nan_weights)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and str(nan_weights) in lines[0] and "holds NaN or inf" in lines[0]
    assert not out.exists(), "nothing may be computed or stored from a refused weight file"


def test_a_loss_that_turns_nan_fails_its_cell_in_one_line_and_stores_nothing(
    tmp_path: Path, session_cache: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("MMM_CACHE_DIR", str(session_cache))
    # A temperature this small overflows the memory logits on the first step: the loss is NaN.
    study = StudySpec(
        name="diverges",
        description="one cell whose loss is NaN from the first step",
        variants=(Variant("tiny_temperature", {"temperature": 1e-40}),),
        reference="tiny_temperature",
        datasets=("sysu",),
    )
    monkeypatch.setattr(study_command, "load_study", lambda name: study)
    out = tmp_path / "runs"
    assert main(["diverges", "--profile", "smoke", "--device", "cpu", "--out", str(out)]) == 1
    failed = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    expected = "stage dcl, epoch 1, step 1: loss 'loss' is nan; training diverged"
    assert len(failed) == 1 and expected in failed[0] and "\n" not in failed[0]
    assert expected in (out / "diverges" / "smoke" / "failures.csv").read_text()
    # Whatever the stage cache holds (the ceiling, computed after the cells, stores its own stages) is finite.
    store = FileStageStore(out / "cache")
    for entry in (out / "cache").glob("*/*.pt"):
        value = store.load(entry.parent.name, entry.stem)
        weights = value.get("model", {}) if isinstance(value, dict) else {}
        assert all(torch.isfinite(tensor).all() for tensor in weights.values()), f"{entry} holds a diverged stage"
    assert (out / "diverges" / "smoke" / "results.csv").read_text().count("\n") == 1  # the header alone


def test_the_first_non_finite_step_over_every_term_is_named() -> None:
    require_finite_losses({"ce": [1.0, 2.0], "triplet": [0.5, 0.4]}, "sca", 0)
    with pytest.raises(NonFiniteError, match=r"^stage sca, epoch 4, step 2: loss 'triplet' is inf;"):
        require_finite_losses({"ce": [1.0, 2.0, math.nan], "triplet": [0.5, math.inf, 0.1]}, "sca", 3)


def test_nan_features_never_reach_faiss() -> None:
    features = np.random.default_rng(0).normal(size=(20, 8)).astype(np.float32)
    features[[3, 7]] = np.nan
    with pytest.raises(NonFiniteError, match="2 of 20 feature rows hold NaN or inf"):
        jaccard_distance(features, k1=5, k2=2)


def test_no_metric_is_computed_from_nan_features(session_cache: Path) -> None:
    dataset = read_sysu(ensure_synthetic_pair(session_cache, smoke_spec())[0])

    def nan_featurize(records, modality) -> np.ndarray:  # a network whose output went NaN
        return np.full((len(records), 4), np.nan, dtype=np.float32)

    with pytest.raises(NonFiniteError, match=r"evaluation features of \d+ infrared test images"):
        run_sysu_protocol(nan_featurize, dataset, "all", trials=[0])
