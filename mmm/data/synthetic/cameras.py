"""Synthetic cameras: a cluttered scene behind the person and each camera's illumination response.

A scene is a wall, a floor and a few objects; every camera paints its own scene once into a backdrop twice as wide
as the image, and each capture shows a window of it. Visible cameras differ by colour cast, gain, gamma and noise;
infrared cameras by gain, offset, gamma and noise, and their backdrops follow object temperature, not colour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from mmm.data.synthetic.geometry import SUPERSAMPLE
from mmm.data.synthetic.spec import RenderSpec

BACKDROP_WIDTH_FACTOR = 2  # backdrop width / image width: room for per-capture horizontal offsets


@dataclass(frozen=True)
class SceneObject:
    """A box in the backdrop (fractions of its height and width), with a colour and an infrared level."""

    box: tuple[float, float, float, float]
    rgb: np.ndarray  # (3,)
    ir: float
    striped: bool  # shelves, blinds, railings: texture that differs between neighbouring pixels


@dataclass(frozen=True)
class Scene:
    """What stands behind the people in front of one camera."""

    horizon: float  # fraction of the height where the wall meets the floor
    wall_rgb: np.ndarray
    floor_rgb: np.ndarray
    wall_ir: float
    floor_ir: float
    objects: tuple[SceneObject, ...]


@dataclass(frozen=True)
class VisibleCamera:
    """An RGB camera: channel gains (colour cast and exposure), gamma, and its painted backdrop."""

    gain: np.ndarray  # (3,)
    gamma: float
    noise_scale: float  # multiplies RenderSpec.visible_noise: some sensors are noisier than others
    backdrop: np.ndarray  # (rows, BACKDROP_WIDTH_FACTOR * cols, 3) at the supersampled size


@dataclass(frozen=True)
class InfraredCamera:
    """A near-infrared/thermal camera: gain, offset, gamma, and its painted backdrop."""

    gain: float
    offset: float
    gamma: float
    noise_scale: float  # multiplies RenderSpec.infrared_noise
    backdrop: np.ndarray  # (rows, BACKDROP_WIDTH_FACTOR * cols) at the supersampled size


def _muted(rng: np.random.Generator, low: float, high: float, saturation: float) -> np.ndarray:
    """A colour around a random grey; real backdrops are mostly walls, floors and furniture, not paint charts."""
    grey = rng.uniform(low, high)
    return np.clip(grey + saturation * (rng.random(3) - 0.5), 0.0, 1.0)


Shade = TypeVar("Shade", np.ndarray, float)  # a colour (an RGB array) or an infrared level


def _toward(value: Shade, anchor: float, contrast: float) -> Shade:
    return anchor + contrast * (value - anchor)


def sample_scene(rng: np.random.Generator, spec: RenderSpec) -> Scene:
    """A wall, a floor and spec.clutter objects of random size, colour and temperature; spec.scene_contrast
    pulls every colour toward mid grey and every object's temperature toward the wall's."""
    objects = []
    for _ in range(spec.clutter):
        top = rng.uniform(0.0, 0.8)
        left = rng.uniform(0.0, 0.9)
        objects.append(
            SceneObject(
                box=(top, left, min(1.0, top + rng.uniform(0.1, 0.5)), min(1.0, left + rng.uniform(0.05, 0.3))),
                rgb=_muted(rng, 0.1, 0.9, 0.7),
                # A few objects are warm (lamps, radiators, screens) and light up in infrared.
                ir=float(rng.uniform(0.55, 0.85) if rng.random() < 0.25 else rng.uniform(0.08, 0.4)),
                striped=bool(rng.random() < 0.4),
            )
        )
    contrast = spec.scene_contrast
    horizon = float(rng.uniform(0.55, 0.8))
    wall_rgb = _toward(_muted(rng, 0.35, 0.85, 0.3), 0.5, contrast)
    floor_rgb = _toward(_muted(rng, 0.2, 0.6, 0.25), 0.5, contrast)
    wall_ir = float(rng.uniform(0.12, 0.3))
    floor_ir = float(rng.uniform(0.18, 0.35))
    objects = [
        SceneObject(o.box, _toward(o.rgb, 0.5, contrast), float(_toward(o.ir, wall_ir, contrast)), o.striped)
        for o in objects
    ]
    return Scene(horizon, wall_rgb, floor_rgb, wall_ir, floor_ir, tuple(objects))


def _paint(
    scene: Scene,
    rows: int,
    cols: int,
    channels: int,
    wall: np.ndarray,
    floor: np.ndarray,
    colours: list[np.ndarray],
    rng: np.random.Generator,
) -> np.ndarray:
    backdrop = np.empty((rows, cols, channels), dtype=np.float32)
    split = int(scene.horizon * rows)
    backdrop[:split] = wall
    backdrop[split:] = floor
    stripes = (np.arange(rows) // max(1, rows // 16) % 2 == 0)[:, None, None]
    for obj, colour in zip(scene.objects, colours):
        top, left, bottom, right = (int(f * n) for f, n in zip(obj.box, (rows, cols, rows, cols)))
        region = backdrop[top:bottom, left:right]
        region[:] = colour
        if obj.striped:
            region *= np.where(stripes[top:bottom], 1.0, 0.7)
    # Fixed fine texture so walls and floors are not flat; it belongs to the scene, not to the capture.
    backdrop *= 1.0 + rng.normal(0.0, 0.04, (rows, cols, 1)).astype(np.float32)
    return np.clip(backdrop, 0.0, 1.0)


def _backdrop_size(spec: RenderSpec) -> tuple[int, int]:
    return spec.height * SUPERSAMPLE, spec.width * SUPERSAMPLE * BACKDROP_WIDTH_FACTOR


def visible_camera(rng: np.random.Generator, scene: Scene, spec: RenderSpec) -> VisibleCamera:
    """A visible camera with a random colour cast, exposure and gamma (scaled by spec.illumination)."""
    strength = spec.illumination
    rows, cols = _backdrop_size(spec)
    backdrop = _paint(scene, rows, cols, 3, scene.wall_rgb, scene.floor_rgb, [o.rgb for o in scene.objects], rng)
    exposure = np.exp(rng.normal(0.0, 0.2 * strength))
    cast = np.exp(rng.normal(0.0, 0.15 * strength, 3))
    return VisibleCamera(
        gain=(exposure * cast / cast.mean()).astype(np.float32),
        gamma=float(np.exp(rng.normal(0.0, 0.2 * strength))),
        noise_scale=float(np.exp(rng.normal(0.0, 0.3 * strength))),
        backdrop=backdrop,
    )


def infrared_camera(rng: np.random.Generator, scene: Scene, spec: RenderSpec) -> InfraredCamera:
    """An infrared camera with a random gain, offset and gamma (scaled by spec.illumination)."""
    strength = spec.illumination
    rows, cols = _backdrop_size(spec)
    levels = [np.array([o.ir]) for o in scene.objects]
    backdrop = _paint(scene, rows, cols, 1, np.array([scene.wall_ir]), np.array([scene.floor_ir]), levels, rng)
    return InfraredCamera(
        gain=float(np.exp(rng.normal(0.0, 0.15 * strength))),
        offset=float(rng.normal(0.0, 0.05 * strength)),
        gamma=float(np.exp(rng.normal(0.0, 0.2 * strength))),
        noise_scale=float(np.exp(rng.normal(0.0, 0.3 * strength))),
        backdrop=backdrop[..., 0],
    )
