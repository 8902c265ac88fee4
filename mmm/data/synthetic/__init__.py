"""Synthetic stand-ins for SYSU-MM01 and RegDB, written in the real folder layouts so the real readers read them.

The generator draws people from a shared wardrobe (hard negatives), shows them from front, back and side (distinct
looks per view), colours infrared by material and body heat instead of RGB, and adds per-camera illumination,
pose jitter, occlusion, clutter and noise. `ensure_synthetic_pair` is the entry point: it generates a pair once
per spec and reuses it from the cache afterwards.
"""

from mmm.data.synthetic.cache import (
    REGDB_DIRNAME,
    SYSU_DIRNAME,
    ensure_synthetic_pair,
    generate_pair,
    synthetic_pair_dir,
)
from mmm.data.synthetic.ground_truth import GroundTruthRow, ground_truth_by_path, read_ground_truth
from mmm.data.synthetic.spec import (
    DEFAULT_SPEC,
    GENERATOR_VERSION,
    AppearanceSpec,
    RegdbSpec,
    RenderSpec,
    SyntheticSpec,
    SysuSpec,
    smoke_spec,
    spec_fingerprint,
)

__all__ = [
    "DEFAULT_SPEC",
    "GENERATOR_VERSION",
    "REGDB_DIRNAME",
    "SYSU_DIRNAME",
    "AppearanceSpec",
    "GroundTruthRow",
    "RegdbSpec",
    "RenderSpec",
    "SyntheticSpec",
    "SysuSpec",
    "ensure_synthetic_pair",
    "generate_pair",
    "ground_truth_by_path",
    "read_ground_truth",
    "smoke_spec",
    "spec_fingerprint",
    "synthetic_pair_dir",
]
