"""Write a RegDB-shaped synthetic tree: Visible/<pid>/*.bmp, Thermal/<pid>/*.bmp, idx/ lists, ground truth.

Like the real RegDB, a dual camera films both modalities at once: visible image i and thermal image i of a person
are one capture (same view, pose and occluder) coloured twice. A person's ten captures come from one walk past
the camera, so most show the same view (RegdbSpec.dominant_view_prob). Each trial splits the identities half/half with
its own seeded permutation and labels each half 0..n-1 in id order, as the real idx/ files do.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image

from mmm.data.datasets import REGDB_THERMAL_CAM, REGDB_VISIBLE_CAM
from mmm.data.synthetic.appearance import sample_population
from mmm.data.synthetic.cameras import infrared_camera, sample_scene, visible_camera
from mmm.data.synthetic.geometry import paint_parts, sample_pose
from mmm.data.synthetic.ground_truth import GroundTruthRow, write_ground_truth
from mmm.data.synthetic.render import render_infrared, render_visible
from mmm.data.synthetic.spec import RegdbSpec, SyntheticSpec

logger = logging.getLogger(__name__)


def _view(rng: np.random.Generator, spec: RegdbSpec) -> str:
    if rng.random() < spec.side_view_prob:
        return "side"
    return "front" if rng.random() < 0.5 else "back"


def _write_idx(
    root: Path, rows: list[GroundTruthRow], pids: list[int], spec: RegdbSpec, rng: np.random.Generator
) -> None:
    idx = root / "idx"
    idx.mkdir()
    for trial in range(1, spec.trials + 1):
        order = [int(pid) for pid in rng.permutation(pids)]
        half = len(order) // 2
        for part, members in (("train", order[:half]), ("test", order[half:])):
            label = {pid: number for number, pid in enumerate(sorted(members))}
            for modality, word in (("visible", "visible"), ("infrared", "thermal")):
                listed = [r for r in rows if r.modality == modality and r.identity in label]
                lines = [f"{r.path} {label[r.identity]}" for r in listed]
                (idx / f"{part}_{word}_{trial}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_regdb_tree(root: Path, spec: SyntheticSpec, rng: np.random.Generator) -> list[GroundTruthRow]:
    """Write the whole RegDB-shaped tree under root (which must not hold one yet); return its ground truth."""
    regdb, render = spec.regdb, spec.render
    pids = list(range(1, regdb.ids + 1))
    people = sample_population(rng, pids, spec.appearance)
    scene = sample_scene(rng, render)
    visible, thermal = visible_camera(rng, scene, render), infrared_camera(rng, scene, render)
    rows: list[GroundTruthRow] = []
    for pid in pids:
        folders = {name: root / name / str(pid) for name in ("Visible", "Thermal")}
        for folder in folders.values():
            folder.mkdir(parents=True)
        walk = _view(rng, regdb)
        for number in range(regdb.images_per_modality):
            view = walk if rng.random() < regdb.dominant_view_prob else _view(rng, regdb)
            pose = sample_pose(rng, view, render)
            maps = paint_parts(people[pid], pose, render.height, render.width)
            visible_pixels = render_visible(people[pid], maps, pose, visible, rng, render)
            thermal_pixels = render_infrared(people[pid], maps, pose, thermal, rng, render)
            captures = (
                ("Visible", "v", "visible", REGDB_VISIBLE_CAM, visible_pixels),
                ("Thermal", "t", "infrared", REGDB_THERMAL_CAM, thermal_pixels),
            )
            for folder_name, letter, modality, cam, pixels in captures:
                path = folders[folder_name] / f"{letter}_{pid:05d}_{number:02d}.bmp"
                Image.fromarray(pixels).save(path, format="BMP")
                rows.append(GroundTruthRow(path.relative_to(root).as_posix(), pid, view, cam, modality))
    _write_idx(root, rows, pids, regdb, rng)
    write_ground_truth(root, rows)
    logger.info("wrote RegDB-shaped synthetic tree at %s: %d ids, %d images", root, len(pids), len(rows))
    return rows
