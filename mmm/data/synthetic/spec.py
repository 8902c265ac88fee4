"""Parameters of the synthetic stand-ins, gathered in frozen dataclasses, and the fingerprint that names a cache.

The defaults give a pair small enough for a whole training study on 2 CPU cores; smoke_spec() gives a tiny pair
for tests. Every knob that makes the task harder or easier (noise, occlusion, wardrobe size, view bias) lives here
so that calibration against trained models only edits numbers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

# Bump whenever a change to the generator alters its output, so that stale caches are not reused.
GENERATOR_VERSION = 3


@dataclass(frozen=True)
class AppearanceSpec:
    """How identities are dressed; smaller wardrobes mean more identities sharing clothes (hard negatives)."""

    upper_wardrobe: int = 40  # distinct shirts/tops to draw from
    jacket_wardrobe: int = 20  # distinct open jackets (change the front/back look)
    lower_wardrobe: int = 20  # distinct trousers/shorts/skirts
    jacket_prob: float = 0.5  # share of identities wearing an open jacket
    backpack_prob: float = 0.45  # share carrying a backpack (seen from the back and side only)
    logo_prob: float = 0.5  # share with a chest logo (seen from the front only)
    long_hair_prob: float = 0.35  # share with long hair (covers the upper back in the back view)
    print_prob: float = 0.5  # share of patterns printed in a second material, so they show in infrared too


@dataclass(frozen=True)
class RenderSpec:
    """Image size and nuisances: illumination, pose jitter, occlusion, clutter, noise."""

    height: int = 128  # pixels (the real data use 288)
    width: int = 64  # pixels (the real data use 144)
    visible_noise: float = 0.02  # std of additive Gaussian noise on [0, 1] visible intensities
    infrared_noise: float = 0.02  # std of additive Gaussian noise on [0, 1] infrared intensities
    illumination: float = 0.3  # strength of per-camera colour cast, gain and gamma (0 = identical cameras)
    scale_jitter: float = 0.12  # relative person-height variation between images
    shift_jitter: float = 0.08  # horizontal/vertical person offset, as a fraction of the image size
    occlusion_prob: float = 0.1  # chance that an image has an occluder over part of the person
    clutter: int = 2  # background objects per camera scene
    scene_contrast: float = 0.2  # how far scene colours stray from mid grey (0 = every camera sees a grey room)
    # Share of a garment's infrared level set by how dark its dye is rather than by its material: dark dyes
    # absorb near-infrared light, so black clothes look dark in both modalities (0 = material only).
    dye_absorption: float = 0.8
    jpeg_quality: int = 90  # quality of the SYSU-shaped JPEG files

    def __post_init__(self) -> None:
        if self.height < 8 or self.width < 4:
            raise ValueError(f"RenderSpec image size must be at least 8x4, got {self.height}x{self.width}")


@dataclass(frozen=True)
class SysuSpec:
    """The SYSU-shaped tree: six cameras (1, 2, 4, 5 visible; 3, 6 infrared) and exp/ id lists.

    Fewer identities than the real 395 but about as many images per identity (real: ~56 visible, ~30 infrared),
    because the paper's clustering constants (k1 = 30, eps = 0.6) assume clusters larger than k1; with a handful
    of images per identity every k-reciprocal set spills into other identities and DBSCAN merges them.
    """

    train_ids: int = 32  # ids in exp/train_id.txt
    val_ids: int = 8  # ids in exp/val_id.txt (trained on too, like the real protocol)
    test_ids: int = 32  # ids in exp/test_id.txt
    visible_per_camera: tuple[int, int] = (10, 14)  # inclusive range of images per (id, visible camera)
    infrared_per_camera: tuple[int, int] = (12, 18)  # inclusive range of images per (id, infrared camera)
    missing_pair_rate: float = 0.06  # chance that an (id, camera) pair has no images, as in real SYSU
    dominant_view_prob: float = 0.7  # chance an image shows the view the person mostly shows that camera

    def __post_init__(self) -> None:
        if min(self.train_ids, self.test_ids) < 1 or self.val_ids < 0:
            raise ValueError("SysuSpec needs at least one train and one test id and no negative counts")
        for low, high in (self.visible_per_camera, self.infrared_per_camera):
            if not 1 <= low <= high:
                raise ValueError(f"SysuSpec image ranges must satisfy 1 <= low <= high, got {(low, high)}")


@dataclass(frozen=True)
class RegdbSpec:
    """The RegDB-shaped tree: one visible and one thermal camera, aligned pairs, idx/ lists for each trial."""

    ids: int = 80  # identities; each trial trains on half and tests on the other half
    images_per_modality: int = 10  # images per identity and modality (visible i and thermal i are one capture)
    trials: int = 10  # idx/ lists written for trials 1..trials
    side_view_prob: float = 0.2  # the rest is split evenly between front and back views
    # Chance that a capture shows the view of the person's walk past the camera (drawn once per person, like
    # the real RegDB's frames of one pass); otherwise a view is drawn afresh.
    dominant_view_prob: float = 0.9

    def __post_init__(self) -> None:
        if self.ids < 2 or self.images_per_modality < 1 or self.trials < 1:
            raise ValueError("RegdbSpec needs at least 2 ids, 1 image per modality and 1 trial")


@dataclass(frozen=True)
class SyntheticSpec:
    """Everything that determines a synthetic pair; equal specs give byte-identical trees."""

    seed: int = 0
    appearance: AppearanceSpec = field(default_factory=AppearanceSpec)
    render: RenderSpec = field(default_factory=RenderSpec)
    sysu: SysuSpec = field(default_factory=SysuSpec)
    regdb: RegdbSpec = field(default_factory=RegdbSpec)


DEFAULT_SPEC = SyntheticSpec()


def smoke_spec(seed: int = 0) -> SyntheticSpec:
    """A tiny pair (8 + 4 SYSU ids, 16 RegDB ids, 32×16 images) that generates in well under a second. Each RegDB
    trial trains on 8 identities, as SYSU does, so the noise study's r = 0.25 moves two (one cannot be deranged)."""
    return SyntheticSpec(
        seed=seed,
        render=RenderSpec(height=32, width=16),
        sysu=SysuSpec(train_ids=6, val_ids=2, test_ids=4, visible_per_camera=(2, 3), infrared_per_camera=(2, 3)),
        regdb=RegdbSpec(ids=16, images_per_modality=4),
    )


def spec_fingerprint(spec: SyntheticSpec) -> str:
    """A short hash of every parameter and the generator version: the name of the cache folder."""
    payload = json.dumps({"version": GENERATOR_VERSION, "spec": asdict(spec)}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def spec_as_json(spec: SyntheticSpec) -> str:
    """The spec and generator version as JSON, written into the completion marker for reference."""
    return json.dumps({"version": GENERATOR_VERSION, "spec": asdict(spec)}, sort_keys=True, indent=2)


def _lists_as_tuples(fields: dict[str, Any]) -> dict[str, Any]:
    """JSON has no tuples; the per-camera ranges were tuples."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}


def spec_from_json(text: str) -> tuple[SyntheticSpec, int]:
    """The spec and generator version that spec_as_json wrote; ValueError saying which part is malformed."""
    try:
        document = json.loads(text)
        parts = document["spec"]
        version = int(document["version"])
    except (ValueError, TypeError, KeyError) as error:
        raise ValueError(f"expected a JSON object with 'version' and 'spec' ({error})") from None
    try:
        spec = SyntheticSpec(
            seed=int(parts["seed"]),
            appearance=AppearanceSpec(**parts["appearance"]),
            render=RenderSpec(**parts["render"]),
            sysu=SysuSpec(**_lists_as_tuples(parts["sysu"])),
            regdb=RegdbSpec(**parts["regdb"]),
        )
    except (TypeError, KeyError) as error:
        raise ValueError(f"the 'spec' object does not describe a SyntheticSpec ({error})") from None
    return spec, version
