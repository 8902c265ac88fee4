"""Colour a capture's part labels into an image: RGB for visible cameras, intensity for infrared ones.

Visible pixels take the garment colour and pattern; infrared pixels take the garment *material* level plus body
heat, and of the colour only how dark the dye is (RenderSpec.dye_absorption; hue never shows), which is what
makes cross-modality matching hard. Both paths add a backdrop window, shading, the camera response,
anti-aliasing and noise, and return uint8 (H, W, 3) arrays; infrared images have R = G = B like the real
SYSU-MM01 and RegDB infrared files.
"""

from __future__ import annotations

import numpy as np

from mmm.data.synthetic import geometry
from mmm.data.synthetic.appearance import MATERIAL_IR, Garment, Identity
from mmm.data.synthetic.cameras import InfraredCamera, VisibleCamera
from mmm.data.synthetic.geometry import SUPERSAMPLE, PartMaps, Pose
from mmm.data.synthetic.spec import RenderSpec

_HAIR_IR = 0.55
_SHOES_IR = 0.30
# Infrared shifts by how close a layer sits to the body: shirts are warmed, jackets and bags less or not at all.
_LAYER_HEAT = {
    geometry.SHIRT: 0.06,
    geometry.JACKET: -0.04,
    geometry.LOWER: 0.0,
    geometry.BACKPACK: -0.10,
    geometry.LOGO: 0.06,
}


def _pattern(garment: Garment, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Boolean mask of the pixels that take the accent colour."""
    rows = np.floor(v / garment.period).astype(np.int64) % 2 == 1
    cols = np.floor(u / garment.period).astype(np.int64) % 2 == 1
    if garment.pattern == "hstripes":
        return rows
    if garment.pattern == "vstripes":
        return cols
    if garment.pattern == "checks":
        return rows ^ cols
    return np.zeros_like(rows)


def _garments(person: Identity) -> dict[int, Garment]:
    optional = {geometry.JACKET: person.jacket, geometry.BACKPACK: person.backpack, geometry.LOGO: person.logo}
    worn = {geometry.SHIRT: person.shirt, geometry.LOWER: person.lower}
    worn.update({label: garment for label, garment in optional.items() if garment is not None})
    return worn


def _window(backdrop: np.ndarray, pose: Pose, cols: int) -> np.ndarray:
    start = int(round(pose.backdrop_offset * (backdrop.shape[1] - cols)))
    return backdrop[:, start : start + cols].copy()


def _shading(maps: PartMaps, depth: float) -> np.ndarray:
    """Darker towards the sides of the body, so people look round rather than flat."""
    return 1.0 - depth * np.clip((maps.u / 0.16) ** 2, 0.0, 1.0)


def _finish(image: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    """Average the supersampled image down, add sensor noise, quantise."""
    rows, cols = image.shape[0] // SUPERSAMPLE, image.shape[1] // SUPERSAMPLE
    small = image.reshape(rows, SUPERSAMPLE, cols, SUPERSAMPLE, -1).mean(axis=(1, 3))
    small = small + rng.normal(0.0, noise, small.shape)
    return np.round(np.clip(small, 0.0, 1.0) * 255.0).astype(np.uint8)


def render_visible(
    person: Identity, maps: PartMaps, pose: Pose, camera: VisibleCamera, rng: np.random.Generator, spec: RenderSpec
) -> np.ndarray:
    """The RGB image of one capture, uint8 (H, W, 3)."""
    labels = maps.labels
    image = _window(camera.backdrop, pose, labels.shape[1])
    solid = {geometry.SKIN: person.skin, geometry.HAIR: person.hair, geometry.SHOES: person.shoes}
    for label, rgb in solid.items():
        image[labels == label] = rgb
    for label, garment in _garments(person).items():
        mask = labels == label
        accent = _pattern(garment, maps.u[mask], maps.v[mask])
        image[mask] = np.where(accent[:, None], np.asarray(garment.accent), np.asarray(garment.colour))
    person_mask = np.isin(labels, geometry.PERSON_PARTS)
    image[person_mask] *= _shading(maps, 0.35)[person_mask][:, None]
    image[labels == geometry.OCCLUDER] = rng.uniform(0.05, 0.9, 3)
    exposure = np.exp(rng.normal(0.0, 0.1))
    image = np.clip(image * camera.gain * exposure, 0.0, 1.0) ** camera.gamma
    return _finish(image, spec.visible_noise * camera.noise_scale, rng)


def _luminance(rgb: tuple[float, float, float]) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


def _garment_level(
    garment: Garment, label: int, material: int, colour: tuple[float, float, float], absorption: float
) -> float:
    """Infrared level of one fabric: its material (warmed or cooled by the layer) blended with how much of
    the near-infrared light its dye absorbs (dark dyes absorb more)."""
    fabric = MATERIAL_IR[material] + garment.ir_offset + _LAYER_HEAT[label]
    # The dye term spans about the materials' range (0.2-0.9), so the blend keeps the levels' spread.
    return (1.0 - absorption) * fabric + absorption * (0.15 + 0.8 * _luminance(colour))


def infrared_levels(person: Identity, absorption: float) -> dict[int, float]:
    """Infrared level of every person part (a garment's base fabric): material, dye absorption and body heat."""
    levels = {geometry.SKIN: person.skin_ir, geometry.HAIR: _HAIR_IR, geometry.SHOES: _SHOES_IR}
    for label, garment in _garments(person).items():
        levels[label] = _garment_level(garment, label, garment.material, garment.colour, absorption)
    return levels


def _accent_shifts(
    person: Identity, maps: PartMaps, levels: dict[int, float], absorption: float
) -> list[tuple[np.ndarray, float]]:
    """(pixel mask, level shift from the base in `levels`) of every pattern accent that differs from its base
    in infrared: a print in a second material, or a dye that absorbs differently."""
    shifts = []
    for label, garment in _garments(person).items():
        shift = _garment_level(garment, label, garment.accent_material, garment.accent, absorption) - levels[label]
        if garment.pattern == "plain" or abs(shift) < 1e-6:
            continue
        mask = maps.labels == label
        accent = np.zeros_like(mask)
        accent[mask] = _pattern(garment, maps.u[mask], maps.v[mask])
        shifts.append((accent, shift))
    return shifts


def render_infrared(
    person: Identity, maps: PartMaps, pose: Pose, camera: InfraredCamera, rng: np.random.Generator, spec: RenderSpec
) -> np.ndarray:
    """The infrared image of one capture, uint8 (H, W, 3) with equal channels."""
    labels = maps.labels
    level = _window(camera.backdrop, pose, labels.shape[1])
    # How warm the person is today (walked in from outside, ran for a bus) shifts every body part together.
    heat = rng.normal(0.0, 0.02)
    levels = infrared_levels(person, spec.dye_absorption)
    for label, value in levels.items():
        level[labels == label] = value + heat
    for mask, shift in _accent_shifts(person, maps, levels, spec.dye_absorption):
        level[mask] += shift
    person_mask = np.isin(labels, geometry.PERSON_PARTS)
    level[person_mask] *= _shading(maps, 0.15)[person_mask]
    level[labels == geometry.OCCLUDER] = rng.uniform(0.1, 0.5)
    level = np.clip(level * camera.gain + camera.offset, 0.0, 1.0) ** camera.gamma
    gray = _finish(level[..., None], spec.infrared_noise * camera.noise_scale, rng)
    return np.repeat(gray, 3, axis=2)
