"""Independent random streams per (run seed, stage, epoch), so a cached stage leaves later stages' draws as
they would have been had it run."""

from __future__ import annotations

import numpy as np

# The label each stage's random streams were first seeded with. Kept when the stages were renamed, so the same seed
# still gives bit-identical runs ("PGM" is the centroid-Hungarian baseline's first name).
SEED_LABELS: dict[str, str] = {"dcl": "A", "cmc": "B", "centroid_hungarian": "PGM", "sca": "C"}


def seed_label(stage: str) -> str:
    """The label of `stage`'s random streams."""
    return SEED_LABELS.get(stage, stage)


def stage_seed(seed: int, stage: str, epoch: int = 0) -> tuple[int, ...]:
    """A seed sequence for numpy (samplers) that never collides across stages or epochs."""
    return (seed, *stage.encode(), epoch)


def torch_seed(seed: int, stage: str) -> int:
    """A 63-bit integer seed for a torch.Generator of one stage."""
    return int(np.random.SeedSequence(stage_seed(seed, stage)).generate_state(2, np.uint64)[0] >> np.uint64(1))
