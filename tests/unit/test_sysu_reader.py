"""The SYSU-MM01 reader: a hand-made minimal tree, every error on broken copies of it, and a synthetic tree."""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmm.data.datasets import SYSU_INFRARED_CAMS, SYSU_VISIBLE_CAMS
from mmm.data.errors import DatasetError
from mmm.data.records import Modality
from mmm.data.synthetic import ensure_synthetic_pair, ground_truth_by_path, read_ground_truth, smoke_spec
from mmm.data.sysu import read_sysu

# (pid, camera) -> number of images in the minimal tree; pid 2 has no cam4 folder, like real SYSU gaps.
_LAYOUT = {
    (1, 1): 2,
    (1, 3): 1,
    (1, 4): 1,
    (2, 2): 1,
    (2, 6): 2,
    (3, 1): 1,
    (3, 3): 1,
    (4, 1): 2,
    (4, 2): 1,
    (4, 3): 2,
    (5, 5): 1,
    (5, 6): 1,
}
_IDS = {"train_id.txt": "1,2\n", "val_id.txt": "3\n", "test_id.txt": "4,5\n"}


def _write_jpeg(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((4, 2, 3), 128, dtype=np.uint8)).save(path, format="JPEG")


def _write_tree(root: Path, layout: dict[tuple[int, int], int], ids: dict[str, str]) -> Path:
    for cam in range(1, 7):
        (root / f"cam{cam}").mkdir(parents=True, exist_ok=True)
    for (pid, cam), count in layout.items():
        for number in range(count, 0, -1):  # written in reverse so sorting is really exercised
            _write_jpeg(root / f"cam{cam}" / f"{pid:04d}" / f"{number:04d}.jpg")
    (root / "exp").mkdir()
    for name, text in ids.items():
        (root / "exp" / name).write_text(text)
    return root


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    return _write_tree(tmp_path / "SYSU-MM01", _LAYOUT, _IDS)


def _error(root: Path) -> DatasetError:
    with pytest.raises(DatasetError) as info:
        read_sysu(root)
    return info.value


def test_training_images_are_train_and_val_ids_sorted_by_id_camera_and_file(tree: Path) -> None:
    train = read_sysu(tree).train
    keys = [(int(pid), im.camid, im.path.name) for pid, im in zip(train.ground_truth.pids, train.images)]
    assert keys == [
        (1, 1, "0001.jpg"),
        (1, 1, "0002.jpg"),
        (1, 3, "0001.jpg"),
        (1, 4, "0001.jpg"),
        (2, 2, "0001.jpg"),
        (2, 6, "0001.jpg"),
        (2, 6, "0002.jpg"),
        (3, 1, "0001.jpg"),
        (3, 3, "0001.jpg"),
    ]
    for pid, image in zip(train.ground_truth.pids, train.images):
        assert image.path.parent == tree / f"cam{image.camid}" / f"{pid:04d}"


def test_training_modality_follows_camera(tree: Path) -> None:
    for image in read_sysu(tree).train.images:
        expected = Modality.INFRARED if image.camid in SYSU_INFRARED_CAMS else Modality.VISIBLE
        assert image.modality == expected


def test_query_holds_every_infrared_test_image(tree: Path) -> None:
    query = read_sysu(tree).query
    assert [(q.pid, q.camid, q.path.name) for q in query] == [
        (4, 3, "0001.jpg"),
        (4, 3, "0002.jpg"),
        (5, 6, "0001.jpg"),
    ]
    assert all(q.modality == Modality.INFRARED for q in query)


def test_gallery_pool_holds_every_visible_test_image_in_id_camera_file_order(tree: Path) -> None:
    pool = read_sysu(tree).gallery_pool
    assert [(g.pid, g.camid, g.path.name) for g in pool] == [
        (4, 1, "0001.jpg"),
        (4, 1, "0002.jpg"),
        (4, 2, "0001.jpg"),
        (5, 5, "0001.jpg"),
    ]
    assert all(g.modality == Modality.VISIBLE for g in pool)


def test_id_files_tolerate_spaces_trailing_comma_and_no_newline(tmp_path: Path) -> None:
    ids = {"train_id.txt": " 1 , 2,\n\n", "val_id.txt": "3", "test_id.txt": "4,5  "}
    dataset = read_sysu(_write_tree(tmp_path / "t", _LAYOUT, ids))
    assert sorted(set(dataset.train.ground_truth.pids.tolist())) == [1, 2, 3]


def test_files_that_are_not_images_are_ignored(tree: Path) -> None:
    (tree / "cam1" / "0001" / "Thumbs.db").write_bytes(b"junk")
    assert len(read_sysu(tree).train.images) == 9


def test_missing_root_is_reported(tmp_path: Path) -> None:
    error = _error(tmp_path / "nowhere")
    assert error.path == tmp_path / "nowhere"
    assert "cam1..cam6" in error.problem


@pytest.mark.parametrize("name", ["train_id.txt", "val_id.txt", "test_id.txt"])
def test_missing_id_file_is_reported(tree: Path, name: str) -> None:
    (tree / "exp" / name).unlink()
    error = _error(tree)
    assert error.path == tree / "exp" / name
    assert "comma-separated" in error.problem


def test_non_integer_id_is_reported_with_its_token(tree: Path) -> None:
    (tree / "exp" / "train_id.txt").write_text("1,two\n")
    error = _error(tree)
    assert error.path == tree / "exp" / "train_id.txt"
    assert "'two'" in error.problem and "integer" in error.problem


def test_empty_id_file_is_reported(tree: Path) -> None:
    (tree / "exp" / "val_id.txt").write_text("\n  \n")
    error = _error(tree)
    assert error.path == tree / "exp" / "val_id.txt"
    assert "empty" in error.problem


def test_id_file_with_several_lines_is_reported(tree: Path) -> None:
    (tree / "exp" / "train_id.txt").write_text("1\n2\n")
    error = _error(tree)
    assert error.path == tree / "exp" / "train_id.txt"
    assert "one line" in error.problem


def test_duplicate_id_is_reported(tree: Path) -> None:
    (tree / "exp" / "train_id.txt").write_text("1,2,1\n")
    assert "[1]" in _error(tree).problem


def test_test_id_listed_for_training_is_reported(tree: Path) -> None:
    (tree / "exp" / "test_id.txt").write_text("3,4,5\n")
    error = _error(tree)
    assert error.path == tree / "exp" / "test_id.txt"
    assert "[3]" in error.problem


def test_listed_id_without_images_names_the_id(tree: Path) -> None:
    (tree / "exp" / "val_id.txt").write_text("3,9\n")
    error = _error(tree)
    assert error.path == tree / "exp" / "val_id.txt"
    assert "identity 9 has no images in any camera" in error.problem
    assert str(tree / "cam1" / "0009") in error.problem


def test_missing_camera_folder_is_reported(tree: Path) -> None:
    shutil.rmtree(tree / "cam5")
    error = _error(tree)
    assert error.path == tree / "cam5"
    assert "camera folder" in error.problem


def test_zero_byte_image_is_reported(tree: Path) -> None:
    broken = tree / "cam3" / "0003" / "0001.jpg"
    broken.write_bytes(b"")
    error = _error(tree)
    assert error.path == broken
    assert "empty" in error.problem and "JPEG" in error.problem


def test_image_with_foreign_header_is_reported(tree: Path) -> None:
    broken = tree / "cam2" / "0004" / "0001.jpg"
    broken.write_bytes(b"<html>not an image</html>")
    error = _error(tree)
    assert error.path == broken
    assert "not a JPEG, PNG or BMP" in error.problem


def test_training_split_without_infrared_is_reported(tmp_path: Path) -> None:
    layout = {key: n for key, n in _LAYOUT.items() if not (key[0] <= 3 and key[1] in SYSU_INFRARED_CAMS)}
    root = _write_tree(tmp_path / "t", layout, _IDS)
    error = _error(root)
    assert error.path == root
    assert "no infrared image" in error.problem


def test_empty_query_is_reported(tmp_path: Path) -> None:
    layout = {key: n for key, n in _LAYOUT.items() if not (key[0] >= 4 and key[1] in SYSU_INFRARED_CAMS)}
    error = _error(_write_tree(tmp_path / "t", layout, _IDS))
    assert "query set would be empty" in error.problem


def test_empty_gallery_pool_is_reported(tmp_path: Path) -> None:
    layout = {key: n for key, n in _LAYOUT.items() if not (key[0] >= 4 and key[1] in SYSU_VISIBLE_CAMS)}
    error = _error(_write_tree(tmp_path / "t", layout, _IDS))
    assert "gallery pool would be empty" in error.problem


@pytest.fixture(scope="module")
def synthetic_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sysu_root, _ = ensure_synthetic_pair(tmp_path_factory.mktemp("syn"), smoke_spec(seed=3))
    return sysu_root


def test_reader_counts_match_generator_ground_truth_per_identity_and_camera(synthetic_root: Path) -> None:
    dataset = read_sysu(synthetic_root)
    read = Counter(
        [(int(pid), im.camid) for pid, im in zip(dataset.train.ground_truth.pids, dataset.train.images)]
        + [(r.pid, r.camid) for r in dataset.query + dataset.gallery_pool]
    )
    truth = Counter((row.identity, row.camera) for row in read_ground_truth(synthetic_root))
    assert read == truth


def test_reader_paths_and_modalities_match_generator_ground_truth(synthetic_root: Path) -> None:
    dataset = read_sysu(synthetic_root)
    read = {im.path: im.modality.name.lower() for im in dataset.train.images + dataset.query + dataset.gallery_pool}
    assert read == {path: row.modality for path, row in ground_truth_by_path(synthetic_root).items()}


def test_ground_truth_of_training_images_agrees_with_reader_identities(synthetic_root: Path) -> None:
    train = read_sysu(synthetic_root).train
    truth = ground_truth_by_path(synthetic_root)
    assert [truth[im.path].identity for im in train.images] == train.ground_truth.pids.tolist()


def test_synthetic_test_ids_appear_in_query_and_gallery(synthetic_root: Path) -> None:
    dataset = read_sysu(synthetic_root)
    assert {q.pid for q in dataset.query} == {g.pid for g in dataset.gallery_pool}
    assert not {q.pid for q in dataset.query} & set(dataset.train.ground_truth.pids.tolist())
