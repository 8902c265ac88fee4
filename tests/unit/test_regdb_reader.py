"""The RegDB reader: a hand-made two-trial tree, every error on broken copies of it, and a synthetic tree."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmm.data.datasets import REGDB_THERMAL_CAM, REGDB_VISIBLE_CAM
from mmm.data.errors import DatasetError
from mmm.data.records import Modality
from mmm.data.regdb import read_regdb
from mmm.data.synthetic import ensure_synthetic_pair, read_ground_truth, smoke_spec

_TRIALS = (1, 2)
# trial -> (train pids, test pids); labels are positions within each list, as in the real idx files.
_SPLITS = {1: ([1, 2], [3, 4]), 2: ([3, 4], [1, 2])}


def _write_bmp(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((4, 2, 3), 90, dtype=np.uint8)).save(path, format="BMP")


def _image(folder: str, pid: int, number: int) -> str:
    return f"{folder}/{pid}/{folder[0].lower()}_{pid}_{number}.bmp"


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "RegDB"
    for pid in range(1, 5):
        for folder in ("Visible", "Thermal"):
            for number in range(2):
                _write_bmp(root / _image(folder, pid, number))
    (root / "idx").mkdir()
    for trial, (train, test) in _SPLITS.items():
        for part, pids in (("train", train), ("test", test)):
            for folder, word in (("Visible", "visible"), ("Thermal", "thermal")):
                lines = [f"{_image(folder, pid, n)} {label}" for label, pid in enumerate(pids) for n in range(2)]
                (root / "idx" / f"{part}_{word}_{trial}.txt").write_text("\n".join(lines) + "\n")
    return root


def _error(root: Path) -> DatasetError:
    with pytest.raises(DatasetError) as info:
        read_regdb(root, _TRIALS)
    return info.value


def test_each_trial_trains_on_visible_then_thermal_images_with_labels_as_ground_truth(tree: Path) -> None:
    train = read_regdb(tree, _TRIALS).trials[1].train
    assert [im.path.relative_to(tree).as_posix() for im in train.images] == [
        _image("Visible", 1, 0),
        _image("Visible", 1, 1),
        _image("Visible", 2, 0),
        _image("Visible", 2, 1),
        _image("Thermal", 1, 0),
        _image("Thermal", 1, 1),
        _image("Thermal", 2, 0),
        _image("Thermal", 2, 1),
    ]
    assert train.ground_truth.pids.tolist() == [0, 0, 1, 1, 0, 0, 1, 1]
    assert [im.camid for im in train.images] == [REGDB_VISIBLE_CAM] * 4 + [REGDB_THERMAL_CAM] * 4
    assert [im.modality for im in train.images] == [Modality.VISIBLE] * 4 + [Modality.INFRARED] * 4


def test_test_images_carry_label_camera_and_modality(tree: Path) -> None:
    trial = read_regdb(tree, _TRIALS).trials[2]
    assert [(r.path.parent.name, r.pid, r.camid, r.modality) for r in trial.test_visible] == [
        ("1", 0, REGDB_VISIBLE_CAM, Modality.VISIBLE),
        ("1", 0, REGDB_VISIBLE_CAM, Modality.VISIBLE),
        ("2", 1, REGDB_VISIBLE_CAM, Modality.VISIBLE),
        ("2", 1, REGDB_VISIBLE_CAM, Modality.VISIBLE),
    ]
    assert {(r.camid, r.modality) for r in trial.test_thermal} == {(REGDB_THERMAL_CAM, Modality.INFRARED)}


def test_only_requested_trials_are_read(tree: Path) -> None:
    dataset = read_regdb(tree, [2])
    assert list(dataset.trials) == [2] and dataset.root == tree


def test_blank_lines_are_skipped(tree: Path) -> None:
    listing = tree / "idx" / "test_thermal_1.txt"
    listing.write_text("\n" + listing.read_text() + "\n\n")
    assert len(read_regdb(tree, _TRIALS).trials[1].test_thermal) == 4


def test_missing_root_is_reported(tmp_path: Path) -> None:
    error = _error(tmp_path / "nowhere")
    assert error.path == tmp_path / "nowhere"
    assert "Visible/, Thermal/, idx/" in error.problem


def test_missing_idx_file_is_reported(tree: Path) -> None:
    (tree / "idx" / "train_thermal_2.txt").unlink()
    error = _error(tree)
    assert error.path == tree / "idx" / "train_thermal_2.txt"
    assert "expected lines 'relative/path label'" in error.problem


def test_line_without_label_is_reported_with_its_number(tree: Path) -> None:
    listing = tree / "idx" / "test_visible_1.txt"
    lines = listing.read_text().splitlines()
    lines[2] = lines[2].split()[0]
    listing.write_text("\n".join(lines) + "\n")
    error = _error(tree)
    assert error.path == listing
    assert "line 3" in error.problem and "integer label" in error.problem


def test_non_integer_label_is_reported_with_its_number(tree: Path) -> None:
    listing = tree / "idx" / "train_visible_2.txt"
    listing.write_text(listing.read_text().replace(" 1\n", " one\n", 1))
    error = _error(tree)
    assert error.path == listing
    assert "line 3" in error.problem and "'relative/path label'" in error.problem


def test_missing_image_names_list_line_and_image(tree: Path) -> None:
    (tree / _image("Thermal", 2, 1)).unlink()
    error = _error(tree)
    assert error.path == tree / "idx" / "train_thermal_1.txt"
    assert "line 4" in error.problem
    assert str(tree / _image("Thermal", 2, 1)) in error.problem and "does not exist" in error.problem


def test_zero_byte_image_is_reported(tree: Path) -> None:
    (tree / _image("Visible", 3, 0)).write_bytes(b"")
    error = _error(tree)
    assert error.path == tree / "idx" / "test_visible_1.txt"
    assert "line 1" in error.problem and "empty (0 bytes)" in error.problem


def test_image_with_foreign_header_is_reported(tree: Path) -> None:
    (tree / _image("Thermal", 4, 1)).write_bytes(b"GIF89a....")
    error = _error(tree)
    assert error.path == tree / "idx" / "test_thermal_1.txt"
    assert str(tree / _image("Thermal", 4, 1)) in error.problem and "not a JPEG, PNG or BMP" in error.problem


def test_empty_split_is_reported(tree: Path) -> None:
    (tree / "idx" / "test_thermal_2.txt").write_text("\n")
    error = _error(tree)
    assert error.path == tree / "idx" / "test_thermal_2.txt"
    assert "lists no images" in error.problem


def test_empty_trial_list_is_rejected(tree: Path) -> None:
    with pytest.raises(ValueError, match="at least one trial"):
        read_regdb(tree, [])


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, regdb_root = ensure_synthetic_pair(tmp_path_factory.mktemp("syn"), smoke_spec(seed=5))
    return regdb_root


def test_reader_reads_all_ten_synthetic_trials_over_every_generated_image(synthetic_root: Path) -> None:
    dataset = read_regdb(synthetic_root)
    truth = Counter((row.path, row.camera) for row in read_ground_truth(synthetic_root))
    for trial in dataset.trials.values():
        images = [(im.path, im.camid) for im in trial.train.images]
        images += [(r.path, r.camid) for r in trial.test_visible + trial.test_thermal]
        assert Counter((path.relative_to(synthetic_root).as_posix(), cam) for path, cam in images) == truth
    assert sorted(dataset.trials) == list(range(1, 11))


def test_synthetic_labels_follow_identities_within_a_split(synthetic_root: Path) -> None:
    identity = {row.path: row.identity for row in read_ground_truth(synthetic_root)}
    trial = read_regdb(synthetic_root).trials[1]
    pairs = {
        (identity[im.path.relative_to(synthetic_root).as_posix()], int(label))
        for im, label in zip(trial.train.images, trial.train.ground_truth.pids)
    }
    assert len({pid for pid, _ in pairs}) == len(pairs) == len({label for _, label in pairs})
    assert {label for _, label in pairs} == set(range(len(pairs)))
