"""What synthetic people wear and look like: materials, colours, garments, a shared wardrobe, identities.

Colour and material are drawn independently, so two garments of different colours can share a material (and look
alike in infrared) while two garments of one colour can differ in infrared. A woven pattern keeps one material (in
infrared only a difference in how dark its dyes are shows); a printed one lays a second material over the first.
Garments come from a small shared wardrobe drawn with popularity weights, so some identities share a top or
trousers: the hard negatives.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmm.data.synthetic.spec import AppearanceSpec

RGB = tuple[float, float, float]

# Infrared level of each material at body temperature, on [0, 1]; close values make materials confusable.
# Cotton, wool, denim, nylon, leather, fleece, polyester, linen.
MATERIAL_IR = (0.62, 0.38, 0.50, 0.76, 0.26, 0.44, 0.86, 0.56)
PATTERNS = ("plain", "hstripes", "vstripes", "checks")
LOWER_CUTS = ("long", "shorts", "skirt")

_BASE_COLOURS: tuple[RGB, ...] = (
    (0.08, 0.08, 0.09),  # black
    (0.92, 0.92, 0.90),  # white
    (0.50, 0.50, 0.52),  # grey
    (0.10, 0.14, 0.35),  # navy
    (0.80, 0.12, 0.12),  # red
    (0.45, 0.08, 0.12),  # dark red
    (0.15, 0.55, 0.20),  # green
    (0.40, 0.42, 0.18),  # olive
    (0.20, 0.35, 0.80),  # blue
    (0.55, 0.75, 0.92),  # light blue
    (0.92, 0.82, 0.20),  # yellow
    (0.95, 0.50, 0.10),  # orange
    (0.40, 0.25, 0.12),  # brown
    (0.85, 0.78, 0.60),  # beige
    (0.92, 0.55, 0.70),  # pink
    (0.45, 0.20, 0.55),  # purple
)
_SKIN_TONES: tuple[RGB, ...] = ((0.96, 0.80, 0.69), (0.87, 0.67, 0.52), (0.70, 0.50, 0.36), (0.45, 0.30, 0.20))
_HAIR_COLOURS: tuple[RGB, ...] = ((0.06, 0.05, 0.05), (0.25, 0.15, 0.08), (0.55, 0.40, 0.20), (0.60, 0.60, 0.58))
_SHOE_COLOURS: tuple[RGB, ...] = ((0.05, 0.05, 0.05), (0.90, 0.90, 0.90), (0.35, 0.22, 0.12), (0.30, 0.30, 0.35))
_COLOUR_JITTER = 0.06
# Popularity exponent of wardrobe items: item r is drawn with weight (r + 1) ** -_POPULARITY.
_POPULARITY = 0.7


@dataclass(frozen=True)
class Garment:
    """A piece of clothing (or a bag or a logo): colours and pattern for the visible camera, material for IR."""

    colour: RGB
    accent: RGB  # second colour of the pattern
    pattern: str  # one of PATTERNS
    period: float  # pattern period in body-height units
    material: int  # index into MATERIAL_IR
    accent_material: int  # material of the pattern's accent: `material` when woven, another one when printed
    ir_offset: float  # thickness/fit: small per-garment shift of the infrared level


@dataclass(frozen=True)
class Wardrobe:
    """The clothes a population draws from."""

    uppers: tuple[Garment, ...]
    jackets: tuple[Garment, ...]
    lowers: tuple[tuple[Garment, str], ...]  # garment and cut (one of LOWER_CUTS)


@dataclass(frozen=True)
class Identity:
    """One synthetic person: body shape, skin and hair, clothes and accessories."""

    pid: int
    height: float  # relative body height (0.85..1.0 of the image)
    build: float  # relative body width
    skin: RGB
    skin_ir: float  # body heat seen on bare skin
    hair: RGB
    long_hair: bool
    shirt: Garment
    jacket: Garment | None  # open jacket: shirt shows at the front only
    lower: Garment
    lower_cut: str
    shoes: RGB
    backpack: Garment | None  # seen from the back and the side, straps only from the front
    logo: Garment | None  # chest logo, seen from the front only


def _colour(rng: np.random.Generator, palette: tuple[RGB, ...]) -> RGB:
    base = np.asarray(palette[rng.integers(len(palette))])
    jittered = np.clip(base + rng.normal(0.0, _COLOUR_JITTER, 3), 0.0, 1.0)
    return (float(jittered[0]), float(jittered[1]), float(jittered[2]))


def sample_garment(rng: np.random.Generator, pattern_prob: float, print_prob: float = 0.0) -> Garment:
    """A garment with an independent colour and material; patterned with probability pattern_prob, and a
    pattern is printed in a second material (seen in infrared) with probability print_prob."""
    pattern = PATTERNS[1 + rng.integers(len(PATTERNS) - 1)] if rng.random() < pattern_prob else "plain"
    material = int(rng.integers(len(MATERIAL_IR)))
    printed = pattern != "plain" and rng.random() < print_prob
    # A print differs from its base by at least two material steps, or the infrared pattern would be invisible.
    accent_material = material
    if printed:
        accent_material = (material + int(rng.integers(2, len(MATERIAL_IR) - 1))) % len(MATERIAL_IR)
    return Garment(
        colour=_colour(rng, _BASE_COLOURS),
        accent=_colour(rng, _BASE_COLOURS),
        pattern=pattern,
        period=float(rng.uniform(0.03, 0.07)),
        material=material,
        accent_material=accent_material,
        ir_offset=float(rng.normal(0.0, 0.05)),
    )


def sample_wardrobe(rng: np.random.Generator, spec: AppearanceSpec) -> Wardrobe:
    """The shared wardrobe of one population."""
    cut_weights = np.array([0.6, 0.25, 0.15])
    return Wardrobe(
        uppers=tuple(sample_garment(rng, 0.55, spec.print_prob) for _ in range(spec.upper_wardrobe)),
        jackets=tuple(sample_garment(rng, 0.2, spec.print_prob) for _ in range(spec.jacket_wardrobe)),
        lowers=tuple(
            (sample_garment(rng, 0.15, spec.print_prob), LOWER_CUTS[rng.choice(len(LOWER_CUTS), p=cut_weights)])
            for _ in range(spec.lower_wardrobe)
        ),
    )


def _pick(rng: np.random.Generator, count: int) -> int:
    weights = (np.arange(count) + 1.0) ** -_POPULARITY
    return int(rng.choice(count, p=weights / weights.sum()))


def sample_identity(rng: np.random.Generator, pid: int, wardrobe: Wardrobe, spec: AppearanceSpec) -> Identity:
    """A person dressed from the wardrobe, with their own body, skin, hair and accessories."""
    lower, cut = wardrobe.lowers[_pick(rng, len(wardrobe.lowers))]
    return Identity(
        pid=pid,
        height=float(rng.uniform(0.85, 1.0)),
        build=float(rng.uniform(0.85, 1.15)),
        skin=_colour(rng, _SKIN_TONES),
        skin_ir=float(rng.uniform(0.86, 0.98)),
        hair=_colour(rng, _HAIR_COLOURS),
        long_hair=bool(rng.random() < spec.long_hair_prob),
        shirt=wardrobe.uppers[_pick(rng, len(wardrobe.uppers))],
        jacket=wardrobe.jackets[_pick(rng, len(wardrobe.jackets))] if rng.random() < spec.jacket_prob else None,
        lower=lower,
        lower_cut=cut,
        shoes=_colour(rng, _SHOE_COLOURS),
        backpack=sample_garment(rng, pattern_prob=0.0) if rng.random() < spec.backpack_prob else None,
        logo=sample_garment(rng, pattern_prob=0.0) if rng.random() < spec.logo_prob else None,
    )


def sample_population(rng: np.random.Generator, pids: list[int], spec: AppearanceSpec) -> dict[int, Identity]:
    """Identities dressed from one shared wardrobe, keyed by pid."""
    wardrobe = sample_wardrobe(rng, spec)
    return {pid: sample_identity(rng, pid, wardrobe, spec) for pid in pids}
