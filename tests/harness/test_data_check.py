"""The data check on the synthetic stand-ins (every count matches, caches ready) and on damaged copies of them,
where each damage is named: identities removed, an unreadable image, a missing idx file, a tree that is not the
dataset its published facts describe."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from harness.data_check.compare import CountRow, format_table, mismatch_lines
from harness.data_check.expected import REAL_SYSU, Expected, exactly, known_counts
from harness.data_check.summary import study_verdict
from harness.study import main
from mmm.data.regdb import read_regdb
from mmm.data.synthetic import REGDB_DIRNAME, SYSU_DIRNAME, ensure_synthetic_pair, smoke_spec
from mmm.data.synthetic.cache import MARKER_FILE
from mmm.data.synthetic.spec import spec_as_json, spec_from_json
from mmm.data.sysu import read_id_file, read_sysu
from mmm.data.tree import walk_tree
from mmm.pipeline.profiles import profile_config
from mmm.pipeline.training_images import TrainingImages

pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.fixture(scope="module")
def smoke_pair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of a generated smoke pair (SYSU-MM01/, RegDB/ and the completion marker)."""
    sysu_root, _ = ensure_synthetic_pair(tmp_path_factory.mktemp("pair-cache"), smoke_spec())
    return sysu_root.parent


@pytest.fixture
def damaged(smoke_pair: Path, tmp_path: Path) -> Path:
    """A private copy of the smoke pair, free to damage."""
    return Path(shutil.copytree(smoke_pair, tmp_path / "copy"))


def check(
    data_root: Path, cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, list[str]]:
    """Run the command; (exit code, stdout, mismatch lines from stderr)."""
    monkeypatch.setenv("MMM_CACHE_DIR", str(cache))
    code = main(["--check-data", "--profile", "smoke", "--data-root", str(data_root)])
    captured = capsys.readouterr()
    return code, captured.out, [line for line in captured.err.splitlines() if line.startswith("mismatch: ")]


def test_synthetic_pair_matches_its_spec_and_leaves_the_caches_the_pipeline_reads(
    smoke_pair: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache"
    code, out, mismatches = check(smoke_pair, cache, monkeypatch, capsys)
    assert (code, mismatches) == (0, [])
    assert "every count matches" in out
    assert "MISMATCH" not in out and "not read" not in out
    assert f"fingerprint: {walk_tree(smoke_pair / SYSU_DIRNAME).fingerprint().short}" in out

    built = sorted(cache.glob("images-*.npy"))
    assert built
    config = profile_config("smoke", "sysu")
    TrainingImages.load(read_sysu(smoke_pair / SYSU_DIRNAME).train, config.height, config.width, cache)
    assert sorted(cache.glob("images-*.npy")) == built  # the pipeline found every cache it needed


def test_identities_removed_are_named_with_the_expected_counts(
    damaged: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    sysu = damaged / SYSU_DIRNAME
    train_ids = read_id_file(sysu / "exp" / "train_id.txt")
    kept, removed = train_ids[:-2], train_ids[-2:]
    (sysu / "exp" / "train_id.txt").write_text(",".join(map(str, kept)) + "\n", encoding="utf-8")
    for pid in removed:
        for folder in sysu.glob(f"cam*/{pid:04d}"):
            shutil.rmtree(folder)

    code, out, mismatches = check(damaged, tmp_path / "cache", monkeypatch, capsys)
    assert code == 1
    total = len(train_ids) + len(read_id_file(sysu / "exp" / "val_id.txt"))
    for quantity in ("identities", "identities with visible images", "identities with infrared images"):
        assert f"mismatch: SYSU-MM01: train, {quantity}: expected {total}, found {total - 2}" in mismatches
    assert all(line.startswith("mismatch: SYSU-MM01: train, identities") for line in mismatches)
    assert "MISMATCH" in out


def test_an_image_that_cannot_be_decoded_is_listed_and_no_cache_is_built(
    damaged: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = sorted((damaged / SYSU_DIRNAME / "cam3").rglob("*.jpg"))[0]
    broken.write_bytes(broken.read_bytes()[:64])  # a cut-off download: the JPEG header survives

    code, out, mismatches = check(damaged, tmp_path / "cache", monkeypatch, capsys)
    assert code == 1
    assert len(mismatches) == 1
    assert mismatches[0].startswith(f"mismatch: SYSU-MM01: unreadable image {broken}: cannot decode image")
    assert "decoded-image caches (profile smoke): not built: some images cannot be decoded" in out


def test_a_missing_idx_file_names_the_file_and_the_trial(
    damaged: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = damaged / REGDB_DIRNAME / "idx" / "test_thermal_3.txt"
    missing.unlink()

    code, out, mismatches = check(damaged, tmp_path / "cache", monkeypatch, capsys)
    assert code == 1
    assert f"mismatch: RegDB: trial 3 not readable: {missing}: missing index file" in "\n".join(mismatches)
    assert "mismatch: RegDB: all trials, readable trials: expected 10, found 9" in mismatches
    assert len(mismatches) == 2  # the other nine trials are read and match
    assert "trials 1–2, 4–10" in out  # the nine matching trials are shown once


def test_a_tree_without_the_generator_marker_is_held_to_the_published_facts(
    damaged: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (damaged / MARKER_FILE).unlink()
    shutil.rmtree(damaged / REGDB_DIRNAME)

    code, _, mismatches = check(damaged, tmp_path / "cache", monkeypatch, capsys)
    assert code == 1
    assert "mismatch: SYSU-MM01: train, identities: expected 395, found 8" in mismatches
    assert "mismatch: SYSU-MM01: train, infrared images: expected 11,909, found" in "\n".join(mismatches)
    assert "mismatch: SYSU-MM01: gallery draw 0, all-search images: expected 301, found" in "\n".join(mismatches)


def test_an_unreadable_generator_marker_is_named_and_the_rest_is_still_checked(
    damaged: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (damaged / MARKER_FILE).write_text("{not json", encoding="utf-8")

    code, out, mismatches = check(damaged, tmp_path / "cache", monkeypatch, capsys)
    assert code == 1
    marker_lines = [line for line in mismatches if "synthetic pair marker is malformed" in line]
    assert len(marker_lines) == 2  # one per dataset
    assert str(damaged / MARKER_FILE) in marker_lines[0]
    assert "fingerprint: sha256:" in out and "not checked" in out


def test_a_data_root_without_datasets_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--check-data", "--data-root", str(tmp_path)]) == 2
    assert "holds no dataset" in capsys.readouterr().err


def test_known_counts_come_from_the_marker_spec_or_the_published_facts(smoke_pair: Path, tmp_path: Path) -> None:
    spec = smoke_spec()
    synthetic = known_counts("sysu", smoke_pair / SYSU_DIRNAME)
    assert synthetic.counts[("train", "identities")] == exactly(spec.sysu.train_ids + spec.sysu.val_ids)
    low, high = spec.sysu.infrared_per_camera
    train = spec.sysu.train_ids + spec.sysu.val_ids
    assert synthetic.counts[("train", "infrared images")] == Expected(train * low, train * 2 * high)
    assert known_counts("regdb", smoke_pair / REGDB_DIRNAME).regdb_trials == tuple(range(1, 11))
    (tmp_path / SYSU_DIRNAME).mkdir()
    assert known_counts("sysu", tmp_path / SYSU_DIRNAME) is REAL_SYSU


def test_spec_survives_the_marker_round_trip() -> None:
    spec = smoke_spec(seed=5)
    assert spec_from_json(spec_as_json(spec))[0] == spec


def test_fingerprint_follows_paths_and_sizes_not_location_or_times(damaged: Path, tmp_path: Path) -> None:
    root = damaged / REGDB_DIRNAME
    before = walk_tree(root).fingerprint()
    moved = Path(shutil.copytree(root, tmp_path / "elsewhere"))
    image = sorted(moved.rglob("*.bmp"))[0]
    os.utime(image, (1.0, 1.0))
    assert walk_tree(moved).fingerprint() == before
    image.write_bytes(image.read_bytes() + b"\0")
    assert walk_tree(moved).fingerprint().digest != before.digest
    image.rename(image.with_name("renamed.bmp"))
    assert walk_tree(moved).fingerprint().digest != before.digest


def test_table_shows_agreeing_trials_once_and_ranges_as_ranges() -> None:
    rows = [CountRow("RegDB", f"trial {t}", "train identities", exactly(4), 4 if t != 2 else 3) for t in (1, 2, 3)]
    rows.append(CountRow("RegDB", "all idx lists", "distinct visible images", Expected(2, 40), 32))
    table = format_table(rows)
    assert "trials 1, 3" in table and "trial 2 " in table
    assert "MISMATCH" in table.splitlines()[3] and "2 to 40" in table


def test_trials_that_differ_alike_share_one_mismatch_line() -> None:
    rows = [CountRow("RegDB", f"trial {t}", "train identities", exactly(206), 4) for t in range(1, 11)]
    rows.append(CountRow("RegDB", "trial 11", "train identities", exactly(206), 5))
    assert mismatch_lines(rows) == [
        "RegDB: trials 1–10, train identities: expected 206, found 4",
        "RegDB: trial 11, train identities: expected 206, found 5",
    ]


def test_a_study_records_a_tree_its_reader_rejects_instead_of_failing(damaged: Path) -> None:
    root = damaged / REGDB_DIRNAME
    (root / "idx" / "train_visible_7.txt").unlink()
    record = study_verdict("regdb", root, lambda: read_regdb(root))
    assert record["fingerprint"] == walk_tree(root).fingerprint().short
    (line,) = record["mismatches"]
    assert line.startswith("RegDB: not readable: ") and "train_visible_7.txt" in line


@pytest.mark.slow
def test_a_study_on_a_real_layout_tree_with_other_counts_warns_and_shows_the_real_data_sections(
    damaged: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without the generator's marker the tree is "real" data, held to the published counts (which the small
    # stand-in does not have), and its report gets what real-data reports get.
    (damaged / MARKER_FILE).unlink()
    monkeypatch.setenv("MMM_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "runs"
    argv = ["smoke", "--profile", "smoke", "--data-root", str(damaged), "--out", str(out), "--device", "cpu"]
    assert main(argv) == 0

    provenance = json.loads((out / "smoke" / "smoke" / "provenance.json").read_text())
    assert provenance["data_source"] == "real"
    record = provenance["data_check"]["regdb"]
    assert record["fingerprint"] == walk_tree(damaged / REGDB_DIRNAME).fingerprint().short
    regdb = smoke_spec().regdb
    found = regdb.ids * regdb.images_per_modality
    regdb_line = f"RegDB: all idx lists, distinct visible images: expected 4,120, found {found}"
    assert regdb_line in record["mismatches"]
    sysu_line = "SYSU-MM01: train, identities: expected 395, found 8"
    assert sysu_line in provenance["data_check"]["sysu"]["mismatches"]

    html = (out / "smoke" / "smoke" / "report.html").read_text(encoding="utf-8")
    assert 'id="data-warning"' in html and f"<li>{regdb_line}</li>" in html and f"<li>{sysu_line}</li>" in html
    # Eleven RegDB lines (two over all idx lists, nine shared by the ten trials), eight of them shown.
    assert f"<li>RegDB: trials 1–10, train identities: expected 206, found {regdb.ids // 2}</li>" in html
    assert "… and 3 more for RegDB (all in provenance.json)" in html
    assert "PGM&#39;s published cluster counts per epoch of its DCL stage" in html
    protocol = html[html.index('<section id="protocol">') :]
    assert "the mean over 2 gallery draws" in protocol  # the smoke profile's eval_trials
    assert "<th>draw 0</th><th>draw 1</th>" in protocol
    assert "Trials: 1 of the 10 idx/ splits (1)" in protocol
