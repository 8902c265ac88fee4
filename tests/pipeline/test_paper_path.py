"""The `paper` profile at full size on the CPU, end to end through the command: AGW ResNet-50 at 288×144 on a
synthetic pair rendered at that size, a couple of steps per stage, tables, provenance and report. Shape, dtype
and memory bugs of the real-data path show here before anyone rents a GPU.

Only the step counts and batch sizes are cut (to fit 2 cores and a few GB); the model, the input size, the
clustering constants and the optimisers are the paper profile's own. Wall time and peak memory are measured and
logged; the peak is held to a budget. Run it with `make paper-path`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import resource
import time
from pathlib import Path

import pytest

from harness import command as study_command
from harness import study as study_cli
from harness.spec import PROFILES, ProfilePlan, StudySpec, Variant, validate_spec
from mmm.data.synthetic import ensure_synthetic_pair, smoke_spec
from mmm.data.synthetic.spec import RegdbSpec, SyntheticSpec, SysuSpec
from mmm.pipeline.profiles import profile_config

log = logging.getLogger(__name__)

PAPER_HEIGHT, PAPER_WIDTH = 288, 144
# Explicitly from scratch: nothing can be downloaded here, and weights are not what this test is about.
FROM_SCRATCH = "none"
# Steps and batches small enough for 2 CPU cores; every stage still runs its real code (clustering each epoch,
# memories, CMC's pooled clustering, MMLM, the GMM confidences, both SCA terms, both SYSU protocols).
SMALL_RUN = {
    "pretrained": FROM_SCRATCH,
    "epochs_a": 1,
    "iters_a": 2,
    "batch_p": 2,
    "batch_k": 4,
    "epochs_b": 1,
    "iters_b": 2,
    "epochs_c": 2,
    "iters_c": 2,
    "batch_p_c": 2,
    "batch_k_c": 2,
    "plain_ce_epochs": 1,
    "inter_start_epoch": 1,
    "eval_trials": 2,
}
# What "a few GB" means here: the run must fit a small CPU machine.
PEAK_RSS_BUDGET_GIB = 6.0


def full_size_spec() -> SyntheticSpec:
    """A pair smaller than the smoke pair (every forward pass at 288×144 costs), rendered at the paper's size.

    It keeps what the path needs: train and val identities, every camera, both SYSU gallery modes, ten RegDB
    trials."""
    spec = smoke_spec()
    return dataclasses.replace(
        spec,
        render=dataclasses.replace(spec.render, height=PAPER_HEIGHT, width=PAPER_WIDTH),
        sysu=SysuSpec(train_ids=4, val_ids=2, test_ids=3, visible_per_camera=(1, 2), infrared_per_camera=(2, 3)),
        regdb=RegdbSpec(ids=6, images_per_modality=3),
    )


def paper_path_study() -> StudySpec:
    # Every profile gets the same small plan: a study must plan each one (harness.spec), and only `paper` runs here.
    plans = {name: ProfilePlan(regdb_trials=(1,), overrides=SMALL_RUN) for name in PROFILES}
    spec = StudySpec(
        name="paper_path",
        description="The paper profile at full size, a couple of steps per stage",
        variants=(Variant("full", paper_row="full MMM"),),
        reference="full",
        profiles=plans,
    )
    validate_spec(spec)
    return spec


pytestmark = pytest.mark.usefixtures("restore_logging")


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def test_the_paper_path_study_is_valid_and_a_dry_run_lists_its_cells_without_training(
    tmp_path: Path, session_cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What `make paper-path` builds, checked in `make test`: the study, the full-size pair, the command's plan."""
    monkeypatch.setenv("MMM_CACHE_DIR", str(session_cache))
    pair = ensure_synthetic_pair(session_cache, full_size_spec())[0].parent
    study = paper_path_study()
    monkeypatch.setattr(study_command, "load_study", lambda name: study)
    out = tmp_path / "runs"
    argv = ["paper_path", "--profile", "paper", "--data-root", str(pair), "--out", str(out), "--dry-run"]
    assert study_cli.main(argv) == 0
    assert "paper_path (paper, synthetic data, weights none): 2 cells — 2 pending" in capsys.readouterr().out
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.fullsize
def test_paper_profile_runs_end_to_end_at_full_size(
    tmp_path: Path, session_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MMM_CACHE_DIR", str(session_cache))
    pair = ensure_synthetic_pair(session_cache, full_size_spec())[0].parent
    study = paper_path_study()
    monkeypatch.setattr(study_command, "load_study", lambda name: study)
    config = profile_config("paper", "sysu", **SMALL_RUN)
    assert (config.backbone, config.height, config.width) == ("agw_resnet50", PAPER_HEIGHT, PAPER_WIDTH)

    started = time.perf_counter()
    out = tmp_path / "runs"
    argv = ["paper_path", "--profile", "paper", "--data-root", str(pair), "--out", str(out), "--device", "cpu"]
    assert study_cli.main(argv) == 0
    seconds, peak = time.perf_counter() - started, peak_rss_gib()
    log.warning("paper path at %dx%d: %.0f s wall, peak RSS %.2f GiB", PAPER_HEIGHT, PAPER_WIDTH, seconds, peak)

    study_dir = out / "paper_path" / "paper"
    results = (study_dir / "results.csv").read_text().splitlines()
    protocols = {line.split(",")[4] for line in results[1:]}
    assert protocols == {"all", "indoor", "v2i", "i2v"}
    assert (study_dir / "failures.csv").read_text().splitlines()[1:] == []
    stages = {line.split(",")[5] for line in (study_dir / "stages.csv").read_text().splitlines()[1:]}
    assert {"images", "dcl", "cmc", "mmlm", "sca", "eval"} <= stages
    provenance = json.loads((study_dir / "provenance.json").read_text())
    assert provenance["profile"] == "paper"
    assert all(not verdict["mismatches"] for verdict in provenance["data_check"].values())
    assert (study_dir / "report.html").stat().st_size > 0
    assert peak < PEAK_RSS_BUDGET_GIB, f"peak RSS {peak:.2f} GiB is over the {PEAK_RSS_BUDGET_GIB} GiB budget"
