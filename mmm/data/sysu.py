"""Reader of the SYSU-MM01 folder layout (real data or the synthetic stand-in).

Layout: root/cam1..cam6/PPPP/NNNN.jpg and root/exp/{train,val,test}_id.txt, each one line of comma-separated ids.
Cameras 1, 2, 4, 5 are visible and 3, 6 infrared. Training uses train ∪ val; the test identities give the query
(every infrared image) and the gallery pool (every visible image), from which the evaluation protocol draws one
image per (identity, camera) per trial. The val identities also form the validation split a tuning search uses
(mmm.data.validation): trained without, scored like the test set.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import numpy as np

from mmm.data.datasets import SYSU_INFRARED_CAMS, SYSU_VISIBLE_CAMS, SysuDataset
from mmm.data.errors import DatasetError
from mmm.data.image_magic import check_image_file
from mmm.data.records import GroundTruth, ImageRecord, Modality, TrainImage, TrainSplit
from mmm.data.tree import TreeListing, walk_tree
from mmm.data.validation import ValidationSplit

logger = logging.getLogger(__name__)

SYSU_CAMS = tuple(sorted(SYSU_VISIBLE_CAMS + SYSU_INFRARED_CAMS))
ID_FILES = ("train_id.txt", "val_id.txt", "test_id.txt")

# One identity's images: camera -> sorted image paths (cameras without the identity are left out).
CameraFiles = dict[int, list[Path]]


def read_id_file(path: Path) -> tuple[int, ...]:
    """Parse one exp/ id file: a single line of comma-separated integer ids."""
    if not path.is_file():
        raise DatasetError(path, "missing id file; expected one line of comma-separated identity ids")
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        raise DatasetError(path, "id file is empty; expected one line of comma-separated identity ids")
    if len(lines) > 1:
        raise DatasetError(path, f"id file has {len(lines)} non-blank lines; expected one line of comma-separated ids")
    tokens = [token.strip() for token in lines[0].split(",")]
    # A trailing comma is harmless; an empty token elsewhere means a damaged line.
    if tokens[-1] == "":
        tokens.pop()
    ids: list[int] = []
    for position, token in enumerate(tokens, start=1):
        try:
            ids.append(int(token))
        except ValueError:
            raise DatasetError(
                path, f"token {position} is {token!r}; expected an integer identity id between commas"
            ) from None
    duplicates = sorted(pid for pid, count in Counter(ids).items() if count > 1)
    if duplicates:
        raise DatasetError(path, f"identity ids listed more than once: {duplicates}")
    return tuple(ids)


def _camera_dirs(root: Path) -> dict[int, Path]:
    dirs = {cam: root / f"cam{cam}" for cam in SYSU_CAMS}
    for cam_dir in dirs.values():
        if not cam_dir.is_dir():
            raise DatasetError(cam_dir, "missing camera folder; expected one sub-folder per identity (e.g. 0001)")
    return dirs


def _identity_files(pid: int, camera_dirs: dict[int, Path], id_file: Path, listing: TreeListing) -> CameraFiles:
    """Sorted image files of one identity per camera; an identity may be absent from some cameras."""
    files: CameraFiles = {}
    for cam, cam_dir in camera_dirs.items():
        images = listing.images_in(f"{cam_dir.name}/{pid:04d}")
        for image in images:
            check_image_file(image)
        if images:
            files[cam] = images
    if not files:
        looked_in = ", ".join(str(d / f"{pid:04d}") for d in camera_dirs.values())
        raise DatasetError(id_file, f"identity {pid} has no images in any camera (looked in {looked_in})")
    return files


def _modality(cam: int) -> Modality:
    return Modality.INFRARED if cam in SYSU_INFRARED_CAMS else Modality.VISIBLE


def _split_images(per_id: dict[int, CameraFiles]) -> TrainSplit:
    images: list[TrainImage] = []
    pids: list[int] = []
    for pid in sorted(per_id):
        for cam in sorted(per_id[pid]):
            for path in per_id[pid][cam]:
                images.append(TrainImage(path=path, camid=cam, modality=_modality(cam)))
                pids.append(pid)
    return TrainSplit(images=tuple(images), ground_truth=GroundTruth(np.asarray(pids, dtype=np.int64)))


def _train_split(per_id: dict[int, CameraFiles], root: Path) -> TrainSplit:
    split = _split_images(per_id)
    for modality in Modality:
        if not any(im.modality == modality for im in split.images):
            raise DatasetError(root, f"training split (train ∪ val ids) has no {modality.name.lower()} image")
    return split


def _validation_split(train_files: dict[int, CameraFiles], val_ids: tuple[int, ...]) -> ValidationSplit:
    """The val identities held out: what a search trains on (train ids alone) and the val images it scores; the
    task built on it checks that both sides hold images of both modalities."""
    held_out = {pid: files for pid, files in train_files.items() if pid in val_ids}
    return ValidationSplit(
        train=_split_images({pid: files for pid, files in train_files.items() if pid not in val_ids}),
        visible=_test_records(held_out, SYSU_VISIBLE_CAMS),
        infrared=_test_records(held_out, SYSU_INFRARED_CAMS),
        ids=tuple(sorted(val_ids)),
        rule=f"SYSU-MM01: the {len(val_ids)} identities of exp/val_id.txt",
    )


def _test_records(per_id: dict[int, CameraFiles], cams: tuple[int, ...]) -> tuple[ImageRecord, ...]:
    return tuple(
        ImageRecord(path=path, pid=pid, camid=cam, modality=_modality(cam))
        for pid in sorted(per_id)
        for cam in sorted(per_id[pid])
        if cam in cams
        for path in per_id[pid][cam]
    )


def read_sysu(root: Path) -> SysuDataset:
    """Read a SYSU-MM01 tree; raise DatasetError naming the offending path on any missing or malformed part (a
    link loop or a dangling link anywhere in the tree included: mmm.data.tree's walk finds the images)."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(root, "dataset root does not exist; expected a SYSU-MM01 folder with cam1..cam6 and exp/")
    id_paths = {name: root / "exp" / name for name in ID_FILES}
    ids = {name: read_id_file(path) for name, path in id_paths.items()}
    train_ids = set(ids["train_id.txt"]) | set(ids["val_id.txt"])
    leaked = sorted(train_ids & set(ids["test_id.txt"]))
    if leaked:
        raise DatasetError(id_paths["test_id.txt"], f"test ids also listed for training: {leaked}")
    twice = sorted(set(ids["train_id.txt"]) & set(ids["val_id.txt"]))
    if twice:
        raise DatasetError(id_paths["val_id.txt"], f"val ids also listed in train_id.txt: {twice}")

    camera_dirs = _camera_dirs(root)
    listing = walk_tree(root)
    train_files = {
        pid: _identity_files(pid, camera_dirs, id_paths[name], listing)
        for name in ("train_id.txt", "val_id.txt")
        for pid in ids[name]
    }
    test_files = {
        pid: _identity_files(pid, camera_dirs, id_paths["test_id.txt"], listing) for pid in ids["test_id.txt"]
    }

    train = _train_split(train_files, root)
    query = _test_records(test_files, SYSU_INFRARED_CAMS)
    gallery_pool = _test_records(test_files, SYSU_VISIBLE_CAMS)
    if not query:
        raise DatasetError(root, "test ids have no infrared image (cam3/cam6); the query set would be empty")
    if not gallery_pool:
        raise DatasetError(root, "test ids have no visible image (cam1/2/4/5); the gallery pool would be empty")
    logger.info(
        "SYSU-MM01 at %s: %d train ids (%d images), %d test ids (%d query, %d gallery pool)",
        root,
        len(train_files),
        len(train.images),
        len(test_files),
        len(query),
        len(gallery_pool),
    )
    validation = _validation_split(train_files, ids["val_id.txt"])
    return SysuDataset(root=root, train=train, query=query, gallery_pool=gallery_pool, validation=validation)
