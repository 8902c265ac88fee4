"""Write a SYSU-MM01-shaped synthetic tree: cam1..cam6/PPPP/NNNN.jpg, exp/{train,val,test}_id.txt, ground truth.

Each camera films its own scene under its own illumination. A person mostly shows a camera one view (the way they
walked past it), so a camera pair can see mostly different sides of the same person; and like the real data a
few (identity, camera) pairs are empty, though every identity keeps at least one visible and one infrared camera.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image

from mmm.data.datasets import SYSU_INFRARED_CAMS, SYSU_VISIBLE_CAMS
from mmm.data.synthetic.appearance import Identity, sample_population
from mmm.data.synthetic.cameras import InfraredCamera, VisibleCamera, infrared_camera, sample_scene, visible_camera
from mmm.data.synthetic.geometry import VIEWS, paint_parts, sample_pose
from mmm.data.synthetic.ground_truth import GroundTruthRow, write_ground_truth
from mmm.data.synthetic.render import render_infrared, render_visible
from mmm.data.synthetic.spec import RenderSpec, SyntheticSpec, SysuSpec

logger = logging.getLogger(__name__)

SYSU_CAMS = tuple(sorted(SYSU_VISIBLE_CAMS + SYSU_INFRARED_CAMS))


def _split_ids(rng: np.random.Generator, spec: SysuSpec) -> dict[str, list[int]]:
    """Ids 1..N shuffled into the three exp/ lists, each sorted like the real files."""
    total = spec.train_ids + spec.val_ids + spec.test_ids
    order = [int(pid) for pid in rng.permutation(np.arange(1, total + 1))]
    cut_val, cut_test = spec.train_ids, spec.train_ids + spec.val_ids
    return {
        "train_id.txt": sorted(order[:cut_val]),
        "val_id.txt": sorted(order[cut_val:cut_test]),
        "test_id.txt": sorted(order[cut_test:]),
    }


def _present_cameras(rng: np.random.Generator, spec: SysuSpec) -> list[int]:
    """Cameras that saw one identity: drop pairs at missing_pair_rate, keeping one camera of each modality."""
    present = [cam for cam in SYSU_CAMS if rng.random() >= spec.missing_pair_rate]
    for group in (SYSU_VISIBLE_CAMS, SYSU_INFRARED_CAMS):
        if not any(cam in group for cam in present):
            present.append(int(rng.choice(group)))
    return sorted(present)


def _views(rng: np.random.Generator, count: int, dominant_prob: float) -> list[str]:
    dominant = VIEWS[rng.integers(len(VIEWS))]
    others = [view for view in VIEWS if view != dominant]
    return [dominant if rng.random() < dominant_prob else others[rng.integers(len(others))] for _ in range(count)]


def _camera(rng: np.random.Generator, cam: int, spec: RenderSpec) -> VisibleCamera | InfraredCamera:
    """Each camera films its own scene, so backgrounds never tie two cameras together."""
    scene = sample_scene(rng, spec)
    if cam in SYSU_INFRARED_CAMS:
        return infrared_camera(rng, scene, spec)
    return visible_camera(rng, scene, spec)


def _render(
    rng: np.random.Generator, person: Identity, view: str, camera: VisibleCamera | InfraredCamera, spec: RenderSpec
) -> np.ndarray:
    pose = sample_pose(rng, view, spec)
    maps = paint_parts(person, pose, spec.height, spec.width)
    if isinstance(camera, InfraredCamera):
        return render_infrared(person, maps, pose, camera, rng, spec)
    return render_visible(person, maps, pose, camera, rng, spec)


def write_sysu_tree(root: Path, spec: SyntheticSpec, rng: np.random.Generator) -> list[GroundTruthRow]:
    """Write the whole SYSU-shaped tree under root (which must not hold one yet); return its ground truth."""
    sysu, render = spec.sysu, spec.render
    splits = _split_ids(rng, sysu)
    (root / "exp").mkdir(parents=True)
    for name, ids in splits.items():
        (root / "exp" / name).write_text(",".join(str(pid) for pid in ids) + "\n", encoding="utf-8")

    pids = sorted(pid for ids in splits.values() for pid in ids)
    people = sample_population(rng, pids, spec.appearance)
    cameras = {cam: _camera(rng, cam, render) for cam in SYSU_CAMS}
    rows: list[GroundTruthRow] = []
    for pid in pids:
        for cam in _present_cameras(rng, sysu):
            infrared = cam in SYSU_INFRARED_CAMS
            low, high = sysu.infrared_per_camera if infrared else sysu.visible_per_camera
            folder = root / f"cam{cam}" / f"{pid:04d}"
            folder.mkdir(parents=True)
            for number, view in enumerate(_views(rng, int(rng.integers(low, high + 1)), sysu.dominant_view_prob), 1):
                path = folder / f"{number:04d}.jpg"
                pixels = _render(rng, people[pid], view, cameras[cam], render)
                Image.fromarray(pixels).save(path, format="JPEG", quality=render.jpeg_quality)
                rows.append(
                    GroundTruthRow(
                        path=path.relative_to(root).as_posix(),
                        identity=pid,
                        view=view,
                        camera=cam,
                        modality="infrared" if infrared else "visible",
                    )
                )
    for cam in SYSU_CAMS:
        (root / f"cam{cam}").mkdir(exist_ok=True)
    write_ground_truth(root, rows)
    logger.info("wrote SYSU-shaped synthetic tree at %s: %d ids, %d images", root, len(pids), len(rows))
    return rows
