"""Validation splits: identities held out of a dataset's training split, so that hyper-parameters can be chosen
without ever looking at the test identities (docs/design.md §5.1).

SYSU-MM01 ships one: the identities of `exp/val_id.txt` (99 of the 395 training identities on the real data).
RegDB ships none, so each trial holds out a fixed, seeded fifth of its training identities. A search trains on what
is left and scores the held-out identities the way the test set is scored; the choice is then re-trained on the
whole training split and reported once on test.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from mmm.choices import VALIDATION_PROTOCOLS
from mmm.data.records import ImageRecord, TrainSplit

# Bump when the way validation splits are drawn or scored changes, so searches on the old splits are other runs.
VALIDATION_RULE_VERSION = 1
# RegDB: the share of a trial's training identities held out, at least REGDB_MIN_HELD_OUT of them (a single
# held-out identity would make every ranking perfect), drawn from a generator seeded by (REGDB_HOLDOUT_SEED, trial).
REGDB_HOLDOUT_FRACTION = 0.2
REGDB_MIN_HELD_OUT = 2
REGDB_HOLDOUT_SEED = 0


@dataclass(frozen=True)
class ValidationSplit:
    """Identities held out of a training split: what a search trains on, and their labelled images to score."""

    train: TrainSplit  # the training split without the held-out identities (ground truth kept apart, as always)
    visible: tuple[ImageRecord, ...]  # held-out visible images (SYSU: the gallery pool of the draws)
    infrared: tuple[ImageRecord, ...]  # held-out infrared images (SYSU: the queries)
    ids: tuple[int, ...]  # the held-out identities, ascending
    rule: str  # how they were chosen, in words (stored with every search trial)


def regdb_held_out_ids(train_ids: Sequence[int], trial: int, seed: int = REGDB_HOLDOUT_SEED) -> tuple[int, ...]:
    """The identities one RegDB trial holds out: a fifth of its distinct training identities (at least
    REGDB_MIN_HELD_OUT), drawn without replacement by a generator seeded with (seed, trial), so each trial holds out
    its own fixed set whatever machine reads it."""
    ids = sorted(set(int(pid) for pid in train_ids))
    count = max(REGDB_MIN_HELD_OUT, round(len(ids) * REGDB_HOLDOUT_FRACTION))
    if count >= len(ids):
        raise ValueError(
            f"RegDB trial {trial} has {len(ids)} training identities; holding out {count} would leave none to train on"
        )
    rng = np.random.default_rng(np.random.SeedSequence([seed, trial]))
    return tuple(sorted(int(pid) for pid in rng.choice(ids, size=count, replace=False)))


def regdb_rule(trial: int, held_out: int, of: int, seed: int = REGDB_HOLDOUT_SEED) -> str:
    drawn = f"drawn with seed ({seed}, {trial})"
    return f"RegDB trial {trial}: {held_out} of its {of} training identities held out, {drawn}"


def validation_identity() -> str:
    """ "val@<hash>" of how the validation splits are drawn and scored (which SYSU-MM01 file, RegDB's fraction,
    minimum and seed, the protocols): with the data's own fingerprint it names the split a search ran on."""
    rule = {
        "version": VALIDATION_RULE_VERSION,
        "sysu": "exp/val_id.txt",
        "regdb": {"fraction": REGDB_HOLDOUT_FRACTION, "minimum": REGDB_MIN_HELD_OUT, "seed": REGDB_HOLDOUT_SEED},
        "protocols": {dataset: list(names) for dataset, names in VALIDATION_PROTOCOLS.items()},
    }
    return "val@" + hashlib.sha256(json.dumps(rule, sort_keys=True).encode()).hexdigest()[:12]
