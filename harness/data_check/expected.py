"""What a dataset tree should hold: the published facts of SYSU-MM01 and RegDB, or, for a synthetic stand-in,
the counts its generator spec fixes (exact where the spec fixes them, a range where it draws them).

A synthetic pair carries its spec in the completion marker beside the two trees, so the same check runs on
the stand-ins and on the real data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from harness.data_check.counts import GALLERY_ALL, GALLERY_INDOOR, READABLE_TRIALS, CountKey
from mmm.data.datasets import REGDB_TRIALS, SYSU_INDOOR_CAMS, SYSU_INFRARED_CAMS, SYSU_VISIBLE_CAMS
from mmm.data.errors import DatasetError
from mmm.data.synthetic.cache import marker_spec
from mmm.data.synthetic.spec import RegdbSpec, SyntheticSpec, SysuSpec, spec_fingerprint


@dataclass(frozen=True)
class Expected:
    """An expected count: exact when low == high."""

    low: int
    high: int

    def holds(self, found: int) -> bool:
        return self.low <= found <= self.high

    def __str__(self) -> str:
        return f"{self.low:,}" if self.low == self.high else f"{self.low:,} to {self.high:,}"


def exactly(count: int) -> Expected:
    return Expected(count, count)


@dataclass(frozen=True)
class KnownCounts:
    """The expected counts of one dataset and where they come from."""

    source: str
    counts: Mapping[CountKey, Expected]
    regdb_trials: tuple[int, ...] = ()  # RegDB: the trials whose idx files should exist


# SYSU-MM01 (Wu et al., ICCV 2017) as the USL-VI-ReID codes use it. The visible test pool is the PGM training
# log's 384 query + 6,391 gallery visible test images (zesenwu23/USL-VI-ReID, training_logs_example/), which
# also lists 395 training and 96 test identities in each modality.
REAL_SYSU = KnownCounts(
    source="published SYSU-MM01 facts",
    counts={
        ("train", "identities"): exactly(395),
        ("train", "identities with visible images"): exactly(395),
        ("train", "visible images"): exactly(22_258),
        ("train", "identities with infrared images"): exactly(395),
        ("train", "infrared images"): exactly(11_909),
        ("test", "identities"): exactly(96),
        ("test", "identities with infrared images"): exactly(96),
        ("test", "identities with visible images"): exactly(96),
        ("test", "infrared images (query)"): exactly(3_803),
        ("test", "visible images (gallery pool)"): exactly(6_775),
        GALLERY_ALL: exactly(301),
        GALLERY_INDOOR: exactly(112),
    },
)

REGDB_IDENTITIES = 412
REGDB_IMAGES_PER_MODALITY = 10


def _regdb(identities: int, per_modality: int, trials: tuple[int, ...], source: str) -> KnownCounts:
    train, test = identities // 2, identities - identities // 2
    counts: dict[CountKey, Expected] = {
        READABLE_TRIALS: exactly(len(trials)),
        ("all idx lists", "distinct visible images"): exactly(identities * per_modality),
        ("all idx lists", "distinct thermal images"): exactly(identities * per_modality),
    }
    for trial in trials:
        scope = f"trial {trial}"
        counts[(scope, "train identities")] = exactly(train)
        counts[(scope, "test identities")] = exactly(test)
        counts[(scope, "identities (train + test)")] = exactly(identities)
        for part, ids in (("train", train), ("test", test)):
            for word in ("visible", "thermal"):
                counts[(scope, f"{part} {word} images")] = exactly(ids * per_modality)
        counts[(scope, "fewest images of an identity in one modality")] = exactly(per_modality)
        counts[(scope, "most images of an identity in one modality")] = exactly(per_modality)
    return KnownCounts(source=source, counts=counts, regdb_trials=trials)


REAL_REGDB = _regdb(REGDB_IDENTITIES, REGDB_IMAGES_PER_MODALITY, REGDB_TRIALS, "published RegDB facts")


def synthetic_sysu(spec: SysuSpec, source: str) -> KnownCounts:
    """Identities are fixed by the spec; images per (identity, camera) are drawn from ranges and a camera may
    be empty (at least one per modality is kept), so image counts and gallery sizes get ranges."""
    train, test = spec.train_ids + spec.val_ids, spec.test_ids
    (vis_low, vis_high), (ir_low, ir_high) = spec.visible_per_camera, spec.infrared_per_camera
    vis_cams, ir_cams = len(SYSU_VISIBLE_CAMS), len(SYSU_INFRARED_CAMS)
    return KnownCounts(
        source=source,
        counts={
            ("train", "identities"): exactly(train),
            ("train", "identities with visible images"): exactly(train),
            ("train", "visible images"): Expected(train * vis_low, train * vis_cams * vis_high),
            ("train", "identities with infrared images"): exactly(train),
            ("train", "infrared images"): Expected(train * ir_low, train * ir_cams * ir_high),
            ("test", "identities"): exactly(test),
            ("test", "identities with infrared images"): exactly(test),
            ("test", "identities with visible images"): exactly(test),
            ("test", "infrared images (query)"): Expected(test * ir_low, test * ir_cams * ir_high),
            ("test", "visible images (gallery pool)"): Expected(test * vis_low, test * vis_cams * vis_high),
            GALLERY_ALL: Expected(test, test * vis_cams),
            GALLERY_INDOOR: Expected(0, test * len(SYSU_INDOOR_CAMS)),
        },
    )


def synthetic_regdb(spec: RegdbSpec, source: str) -> KnownCounts:
    return _regdb(spec.ids, spec.images_per_modality, tuple(range(1, spec.trials + 1)), source)


def known_counts(name: str, root: Path) -> KnownCounts:
    """The counts a tree should hold: from the generator spec when root sits in a synthetic pair (its marker is
    in the parent folder), else the published facts of the dataset `name` ("sysu" or "regdb")."""
    spec = marker_spec(Path(root).parent)
    if spec is None:
        return REAL_SYSU if name == "sysu" else REAL_REGDB
    source = _synthetic_source(spec)
    return synthetic_sysu(spec.sysu, source) if name == "sysu" else synthetic_regdb(spec.regdb, source)


def known_counts_or_problem(name: str, root: Path) -> tuple[KnownCounts, list[str]]:
    """known_counts, or (when a synthetic pair's marker cannot be read) nothing to check against and one line
    saying why, so the rest of the check still runs."""
    try:
        return known_counts(name, root), []
    except DatasetError as error:
        return KnownCounts(source="unknown (the synthetic pair's marker is unreadable)", counts={}), [str(error)]


def _synthetic_source(spec: SyntheticSpec) -> str:
    return f"synthetic stand-in spec {spec_fingerprint(spec)} (seed {spec.seed})"
