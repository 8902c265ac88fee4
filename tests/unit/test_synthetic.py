"""The synthetic generator: determinism, the cache, and the phenomena it must carry (views, infrared, sharing)."""

from __future__ import annotations

import dataclasses
import os
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmm.data.datasets import SYSU_INFRARED_CAMS, SYSU_VISIBLE_CAMS
from mmm.data.synthetic import (
    REGDB_DIRNAME,
    SYSU_DIRNAME,
    AppearanceSpec,
    RenderSpec,
    SyntheticSpec,
    SysuSpec,
    ensure_synthetic_pair,
    generate_pair,
    geometry,
    read_ground_truth,
    smoke_spec,
    spec_fingerprint,
    synthetic_pair_dir,
)
from mmm.data.synthetic import cache as cache_module
from mmm.data.synthetic.appearance import MATERIAL_IR, Identity, sample_population
from mmm.data.synthetic.cameras import (
    InfraredCamera,
    VisibleCamera,
    infrared_camera,
    sample_scene,
    visible_camera,
)
from mmm.data.synthetic.geometry import Pose
from mmm.data.synthetic.render import render_infrared, render_visible


def _tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return generate_pair(tmp_path_factory.mktemp("pair"), smoke_spec(seed=11))


def test_same_seed_gives_identical_bytes(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    again = generate_pair(tmp_path, smoke_spec(seed=11))
    for first, second in zip(pair, again):
        assert _tree_bytes(first) == _tree_bytes(second)


def test_other_seed_gives_other_images(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    other, _ = generate_pair(tmp_path, smoke_spec(seed=12))
    assert _tree_bytes(other) != _tree_bytes(pair[0])


def test_sysu_tree_has_six_camera_folders_exp_files_and_jpeg_images(pair: tuple[Path, Path]) -> None:
    sysu_root = pair[0]
    assert sorted(p.name for p in sysu_root.glob("cam*")) == [f"cam{c}" for c in range(1, 7)]
    assert sorted(p.name for p in (sysu_root / "exp").iterdir()) == ["test_id.txt", "train_id.txt", "val_id.txt"]
    assert {Path(row.path).suffix for row in read_ground_truth(sysu_root)} == {".jpg"}


def test_sysu_exp_lists_split_ids_into_the_requested_sizes(pair: tuple[Path, Path]) -> None:
    spec = smoke_spec().sysu
    sizes = {
        name: len((pair[0] / "exp" / name).read_text().strip().split(","))
        for name in ("train_id.txt", "val_id.txt", "test_id.txt")
    }
    assert sizes == {"train_id.txt": spec.train_ids, "val_id.txt": spec.val_ids, "test_id.txt": spec.test_ids}


def test_every_sysu_identity_keeps_a_visible_and_an_infrared_camera(tmp_path: Path) -> None:
    spec = dataclasses.replace(smoke_spec(), sysu=dataclasses.replace(smoke_spec().sysu, missing_pair_rate=0.7))
    sysu_root, _ = generate_pair(tmp_path, spec)
    cameras: dict[int, set[int]] = {}
    for row in read_ground_truth(sysu_root):
        cameras.setdefault(row.identity, set()).add(row.camera)
    assert len(cameras) == 12
    assert all(cams & set(SYSU_VISIBLE_CAMS) and cams & set(SYSU_INFRARED_CAMS) for cams in cameras.values())
    assert any(len(cams) < 6 for cams in cameras.values())


def test_sysu_images_per_camera_stay_in_the_requested_ranges(pair: tuple[Path, Path]) -> None:
    counts = Counter((row.identity, row.camera) for row in read_ground_truth(pair[0]))
    spec = smoke_spec().sysu
    for (_, cam), count in counts.items():
        low, high = spec.infrared_per_camera if cam in SYSU_INFRARED_CAMS else spec.visible_per_camera
        assert low <= count <= high


def test_regdb_tree_has_aligned_pairs_and_ten_trials_of_idx_files(pair: tuple[Path, Path]) -> None:
    regdb_root = pair[1]
    spec = smoke_spec().regdb
    rows = read_ground_truth(regdb_root)
    visible = [r for r in rows if r.modality == "visible"]
    thermal = [r for r in rows if r.modality == "infrared"]
    assert len(visible) == len(thermal) == spec.ids * spec.images_per_modality
    assert [(v.identity, v.view) for v in visible] == [(t.identity, t.view) for t in thermal]
    assert {Path(r.path).suffix for r in rows} == {".bmp"}
    assert len(list((regdb_root / "idx").glob("*.txt"))) == 40


def test_regdb_trials_split_ids_half_half_with_labels_from_zero(pair: tuple[Path, Path]) -> None:
    regdb_root = pair[1]
    half = smoke_spec().regdb.ids // 2
    identity = {row.path: row.identity for row in read_ground_truth(regdb_root)}
    train_sets = []
    for trial in range(1, 11):
        split_ids = {}
        for part in ("train", "test"):
            lines = (regdb_root / "idx" / f"{part}_visible_{trial}.txt").read_text().split("\n")
            entries = [line.split() for line in lines if line]
            split_ids[part] = {identity[path] for path, _ in entries}
            assert {int(label) for _, label in entries} == set(range(half))
        assert len(split_ids["train"]) == len(split_ids["test"]) == half
        assert not split_ids["train"] & split_ids["test"]
        train_sets.append(frozenset(split_ids["train"]))
    assert len(set(train_sets)) > 1


def test_ground_truth_records_a_view_for_every_image(pair: tuple[Path, Path]) -> None:
    for root in pair:
        rows = read_ground_truth(root)
        assert {row.view for row in rows} <= set(geometry.VIEWS)
        assert all((root / row.path).is_file() for row in rows)


def test_infrared_files_have_equal_channels(pair: tuple[Path, Path]) -> None:
    for root in pair:
        for row in read_ground_truth(root):
            if row.modality == "infrared":
                pixels = np.asarray(Image.open(root / row.path).convert("RGB")).astype(np.int16)
                assert np.array_equal(pixels[..., 0], pixels[..., 1])
                assert np.array_equal(pixels[..., 0], pixels[..., 2])


def test_visible_files_are_in_colour(pair: tuple[Path, Path]) -> None:
    row = next(r for r in read_ground_truth(pair[0]) if r.modality == "visible")
    pixels = np.asarray(Image.open(pair[0] / row.path).convert("RGB")).astype(np.int16)
    assert np.abs(pixels[..., 0] - pixels[..., 2]).mean() > 3


Capture = tuple[RenderSpec, Identity, Pose, tuple[VisibleCamera, InfraredCamera]]


def _capture(view: str, seed: int = 0, dye_absorption: float = 0.8) -> Capture:
    """One noise-free, unoccluded capture of a person with a shirt, backpack and logo (and no jacket)."""
    spec = RenderSpec(
        height=32, width=16, visible_noise=0.0, infrared_noise=0.0, occlusion_prob=0.0, dye_absorption=dye_absorption
    )
    rng = np.random.default_rng(seed)
    person = sample_population(rng, [1], AppearanceSpec(jacket_prob=0.0, backpack_prob=1.0, logo_prob=1.0))[1]
    scene = sample_scene(rng, spec)
    cameras = visible_camera(rng, scene, spec), infrared_camera(rng, scene, spec)
    pose = geometry.sample_pose(rng, view, spec)
    return spec, person, pose, cameras


def _render_both(
    spec: RenderSpec, person: Identity, pose: Pose, cameras: tuple[VisibleCamera, InfraredCamera], seed: int
) -> tuple[np.ndarray, np.ndarray]:
    maps = geometry.paint_parts(person, pose, spec.height, spec.width)
    visible = render_visible(person, maps, pose, cameras[0], np.random.default_rng(seed), spec)
    infrared = render_infrared(person, maps, pose, cameras[1], np.random.default_rng(seed), spec)
    return visible, infrared


def _with_shirt(person: Identity, **changes: object) -> Identity:
    return dataclasses.replace(person, shirt=dataclasses.replace(person.shirt, **changes))


def _shirt_infrared_mean(
    spec: RenderSpec, person: Identity, pose: Pose, cameras: tuple[VisibleCamera, InfraredCamera]
) -> float:
    """Mean infrared value over the output pixels covered by the shirt alone."""
    labels = geometry.paint_parts(person, pose, spec.height, spec.width).labels
    blocks = labels.reshape(spec.height, geometry.SUPERSAMPLE, spec.width, geometry.SUPERSAMPLE)
    shirt = (blocks == geometry.SHIRT).all(axis=(1, 3))
    _, infrared = _render_both(spec, person, pose, cameras, seed=1)
    return float(infrared[..., 0][shirt].mean())


def test_a_change_of_hue_at_equal_darkness_changes_visible_but_not_infrared() -> None:
    spec, person, pose, cameras = _capture("front")
    # Red and green of (nearly) equal luminance: the dye absorbs the same near-infrared light.
    red = (0.9, 0.1, 0.1)
    green = (0.0, (0.299 * 0.9 + 0.587 * 0.1) / 0.587, 0.1)  # same Rec. 601 luminance as red
    visible_a, infrared_a = _render_both(spec, _with_shirt(person, colour=red, accent=red), pose, cameras, seed=1)
    visible_b, infrared_b = _render_both(spec, _with_shirt(person, colour=green, accent=green), pose, cameras, seed=1)
    assert not np.array_equal(visible_a, visible_b)
    assert np.abs(infrared_a.astype(int) - infrared_b.astype(int)).max() <= 1


def test_darker_dye_looks_darker_in_infrared_only_when_dyes_absorb() -> None:
    for absorption, darker in ((0.8, True), (0.0, False)):
        spec, person, pose, cameras = _capture("front", dye_absorption=absorption)
        light, dark = (
            _shirt_infrared_mean(spec, _with_shirt(person, colour=(grey,) * 3, accent=(grey,) * 3), pose, cameras)
            for grey in (0.9, 0.1)
        )
        assert (dark < light - 10) if darker else dark == pytest.approx(light, abs=0.5)


def test_a_printed_pattern_shows_in_infrared_and_a_woven_one_does_not() -> None:
    spec, person, pose, cameras = _capture("front", dye_absorption=0.0)
    striped = _with_shirt(person, pattern="hstripes", period=0.05, colour=(0.8, 0.2, 0.2), accent=(0.2, 0.2, 0.8))
    printed = _with_shirt(striped, accent_material=(person.shirt.material + 3) % len(MATERIAL_IR))
    woven = _with_shirt(striped, accent_material=person.shirt.material)
    _, plain_ir = _render_both(spec, _with_shirt(striped, pattern="plain"), pose, cameras, seed=1)
    _, woven_ir = _render_both(spec, woven, pose, cameras, seed=1)
    _, printed_ir = _render_both(spec, printed, pose, cameras, seed=1)
    assert np.array_equal(plain_ir, woven_ir)
    assert not np.array_equal(plain_ir, printed_ir)


def test_changing_a_garment_material_changes_infrared_but_not_visible() -> None:
    spec, person, pose, cameras = _capture("front")
    other_material = (person.shirt.material + 1) % len(MATERIAL_IR)
    refabricated = _with_shirt(person, material=other_material)
    visible_a, infrared_a = _render_both(spec, person, pose, cameras, seed=1)
    visible_b, infrared_b = _render_both(spec, refabricated, pose, cameras, seed=1)
    assert np.array_equal(visible_a, visible_b)
    assert not np.array_equal(infrared_a, infrared_b)


def test_backpack_shows_from_behind_and_logo_only_from_the_front() -> None:
    spec, person, pose, _ = _capture("front")
    counts = {
        view: np.bincount(
            geometry.paint_parts(person, dataclasses.replace(pose, view=view), spec.height, spec.width).labels.ravel(),
            minlength=geometry.OCCLUDER + 1,
        )
        for view in geometry.VIEWS
    }
    assert counts["back"][geometry.BACKPACK] > 3 * counts["front"][geometry.BACKPACK]
    assert counts["side"][geometry.BACKPACK] > 0
    assert counts["front"][geometry.LOGO] > 0
    assert counts["back"][geometry.LOGO] == counts["side"][geometry.LOGO] == 0


def test_smaller_wardrobe_makes_more_identities_share_a_top() -> None:
    def shared_pairs(wardrobe: int) -> int:
        people = sample_population(np.random.default_rng(0), list(range(40)), AppearanceSpec(upper_wardrobe=wardrobe))
        tops = Counter(id(person.shirt) for person in people.values())
        return sum(n * (n - 1) // 2 for n in tops.values())

    assert shared_pairs(4) > shared_pairs(40) > 0


def test_illumination_knob_at_zero_makes_cameras_respond_alike() -> None:
    spec = RenderSpec(illumination=0.0)
    rng = np.random.default_rng(0)
    cameras = [visible_camera(rng, sample_scene(rng, spec), spec) for _ in range(3)]
    assert all(np.allclose(c.gain, 1.0) and c.gamma == pytest.approx(1.0) for c in cameras)


def test_fingerprint_changes_with_seed_and_nested_parameters() -> None:
    base = smoke_spec()
    assert spec_fingerprint(base) == spec_fingerprint(smoke_spec())
    assert spec_fingerprint(base) != spec_fingerprint(smoke_spec(seed=1))
    assert spec_fingerprint(base) != spec_fingerprint(dataclasses.replace(base, render=RenderSpec(height=48)))
    assert spec_fingerprint(base) != spec_fingerprint(dataclasses.replace(base, sysu=SysuSpec(test_ids=5)))


def test_invalid_spec_values_are_rejected() -> None:
    with pytest.raises(ValueError):
        SysuSpec(visible_per_camera=(3, 2))
    with pytest.raises(ValueError):
        RenderSpec(height=4)


@pytest.fixture()
def counted_generation(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records every destination the cache generates into."""
    calls: list[Path] = []
    real = cache_module.generate_pair

    def counting(destination: Path, spec: SyntheticSpec) -> tuple[Path, Path]:
        calls.append(destination)
        return real(destination, spec)

    monkeypatch.setattr(cache_module, "generate_pair", counting)
    return calls


def test_cache_reuses_a_complete_pair_without_rewriting(tmp_path: Path, counted_generation: list[Path]) -> None:
    first = ensure_synthetic_pair(tmp_path, smoke_spec())
    marker = synthetic_pair_dir(tmp_path, smoke_spec()) / cache_module.MARKER_FILE
    stamp = marker.stat().st_mtime_ns
    second = ensure_synthetic_pair(tmp_path, smoke_spec())
    assert first == second
    assert len(counted_generation) == 1
    assert marker.stat().st_mtime_ns == stamp
    assert first[0].name == SYSU_DIRNAME and first[1].name == REGDB_DIRNAME


def test_cache_puts_another_seed_in_another_folder(tmp_path: Path, counted_generation: list[Path]) -> None:
    first, _ = ensure_synthetic_pair(tmp_path, smoke_spec(seed=0))
    second, _ = ensure_synthetic_pair(tmp_path, smoke_spec(seed=1))
    assert first.parent != second.parent
    assert len(counted_generation) == 2


def test_cache_regenerates_a_folder_without_marker(tmp_path: Path, counted_generation: list[Path]) -> None:
    final = synthetic_pair_dir(tmp_path, smoke_spec())
    (final / SYSU_DIRNAME).mkdir(parents=True)
    (final / SYSU_DIRNAME / "half-written.jpg").write_bytes(b"\xff\xd8\xff")
    sysu_root, _ = ensure_synthetic_pair(tmp_path, smoke_spec())
    assert len(counted_generation) == 1
    assert (final / cache_module.MARKER_FILE).is_file()
    assert not (sysu_root / "half-written.jpg").exists()
    assert (sysu_root / "exp" / "train_id.txt").is_file()


def test_failed_generation_leaves_nothing_that_looks_complete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cache_module, "write_regdb_tree", crash)
    with pytest.raises(KeyboardInterrupt):
        ensure_synthetic_pair(tmp_path, smoke_spec())
    assert list(tmp_path.iterdir()) == []


def test_cache_leaves_no_staging_folders(tmp_path: Path) -> None:
    ensure_synthetic_pair(tmp_path, smoke_spec())
    assert [p.name for p in tmp_path.iterdir()] == [synthetic_pair_dir(tmp_path, smoke_spec()).name]


def test_cache_removes_old_staging_folders_of_killed_runs_but_not_recent_ones(tmp_path: Path) -> None:
    final = synthetic_pair_dir(tmp_path, smoke_spec())
    stale, recent = tmp_path / f".{final.name}-killed", tmp_path / f".{final.name}-running"
    for folder in (stale, recent):
        (folder / "SYSU-MM01").mkdir(parents=True)
    hours_ago = time.time() - 2 * cache_module.STALE_STAGING_SECONDS
    os.utime(stale, (hours_ago, hours_ago))
    ensure_synthetic_pair(tmp_path, smoke_spec())
    assert not stale.exists()
    assert recent.is_dir()


def test_cache_defaults_to_the_project_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMM_CACHE_DIR", str(tmp_path))
    sysu_root, _ = ensure_synthetic_pair(spec=smoke_spec())
    assert sysu_root.parent.parent == tmp_path
