"""Where each body part lands in an image: poses and part-label maps, shared by both modalities.

A person is drawn in body coordinates (u across, v down, both in units of body height, v = 0 at the top of the
head) as simple shapes: head, torso, arms, legs, shoes, plus jacket, backpack, logo and hair that depend on the
view. The result is a label per (supersampled) pixel; the colouring modules turn labels into visible colours or
infrared intensities, so an aligned visible/thermal pair is the same geometry coloured twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmm.data.synthetic.appearance import Identity
from mmm.data.synthetic.spec import RenderSpec

VIEWS = ("front", "back", "side")
SUPERSAMPLE = 2  # render at twice the size and average down, for anti-aliased edges

BACKGROUND, SKIN, HAIR, SHIRT, JACKET, LOWER, SHOES, BACKPACK, LOGO, OCCLUDER = range(10)
PERSON_PARTS = (SKIN, HAIR, SHIRT, JACKET, LOWER, SHOES, BACKPACK, LOGO)

_TORSO_TOP, _WAIST, _HIP = 0.145, 0.52, 0.56
_FEET = 0.93


@dataclass(frozen=True)
class Occluder:
    """A box in front of the person, in image fractions (top, left, bottom, right)."""

    box: tuple[float, float, float, float]


@dataclass(frozen=True)
class Pose:
    """Everything about one capture's geometry apart from the person's body."""

    view: str  # one of VIEWS
    mirrored: bool  # side views face left or right
    scale: float  # person height relative to the nominal height
    shift: tuple[float, float]  # (down, right) offset as fractions of the image size
    swing: float  # arm swing / stride of the side view
    occluder: Occluder | None
    backdrop_offset: float  # where the image window sits in the camera backdrop, 0..1 of the free width


@dataclass(frozen=True)
class PartMaps:
    """Per-pixel part labels and body coordinates at the supersampled size."""

    labels: np.ndarray  # (H, W) int8, one of the part constants
    u: np.ndarray  # (H, W) body coordinate across (used for patterns and shading)
    v: np.ndarray  # (H, W) body coordinate down


def sample_pose(rng: np.random.Generator, view: str, spec: RenderSpec) -> Pose:
    """A random capture of the given view: scale, shift, swing and, sometimes, an occluder."""
    occluder = None
    if rng.random() < spec.occlusion_prob:
        extent = float(rng.uniform(0.15, 0.35))
        side = int(rng.integers(3))
        if side == 0:  # something low in front: a bench, a bin, a car bonnet
            occluder = Occluder((1.0 - extent, 0.0, 1.0, 1.0))
        elif side == 1:  # a pole or a passer-by on the left
            occluder = Occluder((0.0, 0.0, 1.0, extent + 0.1))
        else:
            occluder = Occluder((0.0, 0.9 - extent, 1.0, 1.0))
    return Pose(
        view=view,
        mirrored=bool(rng.random() < 0.5),
        scale=float(1.0 + rng.uniform(-spec.scale_jitter, spec.scale_jitter)),
        shift=(
            float(rng.uniform(-spec.shift_jitter, spec.shift_jitter) / 2),
            float(rng.uniform(-spec.shift_jitter, spec.shift_jitter)),
        ),
        swing=float(rng.uniform(-0.25, 0.25)),
        occluder=occluder,
        backdrop_offset=float(rng.random()),
    )


def _band(values: np.ndarray, low: float, high: float) -> np.ndarray:
    return (values >= low) & (values < high)


def _paint_front_back(labels: np.ndarray, u: np.ndarray, v: np.ndarray, person: Identity, view: str) -> None:
    """Front or back view: both arms and legs; face, logo and straps from the front, hair and backpack behind."""
    build = person.build
    au = np.abs(u)
    half_width = build * (0.13 - 0.03 * np.clip((v - _TORSO_TOP) / (_WAIST - _TORSO_TOP), 0.0, 1.0))
    torso = _band(v, _TORSO_TOP, _HIP) & (au < half_width)
    arm_inner = half_width + 0.005 + 0.04 * np.clip(v - 0.15, 0.0, None)
    arms = (au >= arm_inner) & (au < arm_inner + 0.05 * build)
    sleeve = arms & _band(v, 0.15, 0.47)
    hands = arms & _band(v, 0.47, 0.52)
    legs = _band(v, _HIP - 0.04, _FEET) & (np.abs(au - 0.05 * build) < 0.045 * build)
    shoes = _band(v, _FEET, 0.985) & (np.abs(au - 0.05 * build) < 0.055 * build)
    head = (u / 0.05) ** 2 + ((v - 0.075) / 0.068) ** 2 < 1.0
    neck = _band(v, 0.12, _TORSO_TOP + 0.01) & (au < 0.022)

    labels[legs] = SKIN
    _paint_lower(labels, au, v, person.lower_cut, build, legs)
    labels[shoes] = SHOES
    labels[neck | head | hands] = SKIN
    labels[torso] = SHIRT
    if person.jacket is not None:
        labels[sleeve] = JACKET
        # The jacket is open: from the front the shirt shows in a central strip.
        labels[(torso & (au >= 0.055 * build)) if view == "front" else torso] = JACKET
    else:
        labels[sleeve & (v < 0.3)] = SHIRT
        labels[sleeve & (v >= 0.3)] = SKIN
    if view == "front":
        hair = head & ((v < 0.03) | ((au > 0.038) & (v < 0.12 if person.long_hair else v < 0.07)))
        labels[hair] = HAIR
        if person.backpack is not None:
            labels[torso & _band(v, _TORSO_TOP, 0.32) & _band(au, 0.065 * build, 0.09 * build)] = BACKPACK
        if person.logo is not None:
            labels[_band(v, 0.22, 0.29) & (au < 0.038)] = LOGO
    else:
        long_hair = _band(v, 0.1, 0.25) & (au < 0.06) if person.long_hair else np.zeros_like(head)
        labels[head | long_hair] = HAIR
        if person.backpack is not None:
            labels[_band(v, 0.17, 0.42) & (au < 0.095 * build)] = BACKPACK


def _paint_lower(labels: np.ndarray, au: np.ndarray, v: np.ndarray, cut: str, build: float, legs: np.ndarray) -> None:
    """Trousers cover the legs, shorts the thighs, a skirt flares over both legs; bare skin shows below."""
    pelvis = _band(v, _WAIST - 0.02, _HIP + 0.02) & (au < 0.1 * build)
    if cut == "long":
        labels[(legs & (v < _FEET - 0.01)) | pelvis] = LOWER
    elif cut == "shorts":
        labels[(legs & (v < 0.68)) | pelvis] = LOWER
    else:
        flare = 0.1 * build + 0.08 * np.clip((v - _WAIST) / 0.2, 0.0, 1.0)
        labels[_band(v, _WAIST - 0.02, 0.72) & (au < flare)] = LOWER


def _paint_side(labels: np.ndarray, u: np.ndarray, v: np.ndarray, person: Identity, swing: float) -> None:
    """Side view facing +u: narrow torso, one arm, striding legs, backpack behind, shirt only at the front edge."""
    build = person.build
    half_depth = 0.085 * build
    torso = _band(v, _TORSO_TOP, _HIP) & (np.abs(u) < half_depth)
    stride = swing * 0.6
    leg_a = np.abs(u - stride * np.clip(v - _HIP, 0.0, None)) < 0.045 * build
    leg_b = np.abs(u + stride * np.clip(v - _HIP, 0.0, None)) < 0.045 * build
    legs = _band(v, _HIP - 0.04, _FEET) & (leg_a | leg_b)
    shoes = _band(v, _FEET, 0.985) & (
        _band(u - stride * (_FEET - _HIP), -0.04, 0.07) | _band(u + stride * (_FEET - _HIP), -0.04, 0.07)
    )
    arm_centre = swing * np.clip(v - 0.15, 0.0, None)
    arm = np.abs(u - arm_centre) < 0.028 * build
    sleeve = arm & _band(v, 0.15, 0.47)
    hand = arm & _band(v, 0.47, 0.52)
    head = ((u - 0.005) / 0.055) ** 2 + ((v - 0.075) / 0.068) ** 2 < 1.0
    neck = _band(v, 0.12, _TORSO_TOP + 0.01) & (np.abs(u) < 0.025)

    labels[legs] = SKIN
    _paint_lower(labels, np.abs(u), v, person.lower_cut, build, legs)
    labels[shoes] = SHOES
    labels[neck | head] = SKIN
    labels[(head & ((u < -0.005) | (v < 0.03)))] = HAIR
    if person.long_hair:
        labels[_band(v, 0.1, 0.24) & _band(u, -0.055, -0.01)] = HAIR
    labels[torso] = SHIRT
    if person.jacket is not None:
        labels[torso & (u < half_depth - 0.04)] = JACKET
    if person.backpack is not None:
        labels[_band(v, 0.17, 0.42) & _band(u, -half_depth - 0.07, -half_depth + 0.01)] = BACKPACK
    if person.jacket is not None:
        labels[sleeve] = JACKET
    else:
        labels[sleeve & (v < 0.3)] = SHIRT
        labels[sleeve & (v >= 0.3)] = SKIN
    labels[hand] = SKIN


def paint_parts(person: Identity, pose: Pose, height: int, width: int) -> PartMaps:
    """Part labels of one capture at SUPERSAMPLE × (height, width)."""
    rows, cols = height * SUPERSAMPLE, width * SUPERSAMPLE
    body_px = rows * 0.88 * person.height * pose.scale
    top = (rows - body_px) / 2 + pose.shift[0] * rows
    centre = cols / 2 + pose.shift[1] * cols
    y = (np.arange(rows, dtype=np.float32) + 0.5)[:, None]
    x = (np.arange(cols, dtype=np.float32) + 0.5)[None, :]
    u = np.broadcast_to((x - centre) / body_px, (rows, cols))
    v = np.broadcast_to((y - top) / body_px, (rows, cols))
    if pose.mirrored:
        u = -u
    labels = np.zeros((rows, cols), dtype=np.int8)
    if pose.view == "side":
        _paint_side(labels, u, v, person, pose.swing)
    else:
        _paint_front_back(labels, u, v, person, pose.view)
    if pose.occluder is not None:
        top_f, left_f, bottom_f, right_f = pose.occluder.box
        labels[int(top_f * rows) : int(bottom_f * rows), int(left_f * cols) : int(right_f * cols)] = OCCLUDER
    return PartMaps(labels=labels, u=np.ascontiguousarray(u), v=np.ascontiguousarray(v))
