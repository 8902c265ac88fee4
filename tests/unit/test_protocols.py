"""Tests of the evaluation protocols: the SYSU-MM01 single-shot gallery draw and the SYSU/RegDB runners."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from mmm.choices import METRICS
from mmm.data.datasets import RegdbDataset, RegdbTrial, SysuDataset
from mmm.data.records import GroundTruth, ImageRecord, Modality, TrainSplit
from mmm.evaluation.metrics import RankResult
from mmm.evaluation.protocols import (
    Featurize,
    rank_percentages,
    run_regdb_protocol,
    run_sysu_protocol,
    summarise,
    sysu_gallery,
)

NUM_IDS = 4
EMPTY_TRAIN = TrainSplit(images=(), ground_truth=GroundTruth(pids=np.zeros(0, dtype=np.int64)))


def record(pid: int, cam: int, n: int) -> ImageRecord:
    modality = Modality.INFRARED if cam in (3, 6) else Modality.VISIBLE
    return ImageRecord(path=Path(f"cam{cam}/{pid:04d}/{n:04d}.jpg"), pid=pid, camid=cam, modality=modality)


def sysu_dataset() -> SysuDataset:
    """Ids 1..4; visible cams 1, 2, 4, 5 with three images each, except that id 3 has no cam-5 image and id 4
    no cam-1 image; two infrared images per id in each of cams 3 and 6. The pool is shuffled so that drawing
    must sort it."""
    pool = [
        record(pid, cam, n)
        for pid in range(1, NUM_IDS + 1)
        for cam in (1, 2, 4, 5)
        for n in range(3)
        if (pid, cam) not in ((3, 5), (4, 1))
    ]
    random.Random(42).shuffle(pool)
    query = tuple(record(pid, cam, n) for pid in range(1, NUM_IDS + 1) for cam in (3, 6) for n in range(2))
    return SysuDataset(root=Path("sysu"), train=EMPTY_TRAIN, query=query, gallery_pool=tuple(pool))


def reference_gallery(pool: Sequence[ImageRecord], trial: int, cams: tuple[int, ...]) -> list[ImageRecord]:
    """The published draw: global random.seed(trial), then random.choice per (id, camera) over sorted files."""
    state = random.getstate()
    try:
        random.seed(trial)
        gallery = []
        for pid in sorted({r.pid for r in pool}):
            for cam in cams:
                files = sorted((r for r in pool if r.pid == pid and r.camid == cam), key=lambda r: str(r.path))
                if files:
                    gallery.append(random.choice(files))
        return gallery
    finally:
        random.setstate(state)


def one_hot(records: Sequence[ImageRecord], modality: Modality) -> np.ndarray:
    return np.eye(NUM_IDS + 1)[[r.pid for r in records]]


def test_sysu_gallery_is_deterministic() -> None:
    dataset = sysu_dataset()
    assert sysu_gallery(dataset, 3, "all") == sysu_gallery(dataset, 3, "all")


def test_sysu_gallery_has_one_image_per_identity_and_camera_present_in_order() -> None:
    gallery = sysu_gallery(sysu_dataset(), 0, "all")
    present = sorted({(pid, cam) for pid in range(1, NUM_IDS + 1) for cam in (1, 2, 4, 5)} - {(3, 5), (4, 1)})
    assert [(r.pid, r.camid) for r in gallery] == present


def test_indoor_gallery_uses_only_cams_1_and_2() -> None:
    gallery = sysu_gallery(sysu_dataset(), 0, "indoor")
    assert {r.camid for r in gallery} == {1, 2}
    assert len(gallery) == 2 * NUM_IDS - 1


def test_different_trials_draw_different_galleries() -> None:
    dataset = sysu_dataset()
    draws = {tuple(sysu_gallery(dataset, trial, "all")) for trial in range(10)}
    assert len(draws) == 10


@pytest.mark.parametrize("mode, cams", [("all", (1, 2, 4, 5)), ("indoor", (1, 2))])
def test_sysu_gallery_equals_the_global_random_seed_draw(mode: str, cams: tuple[int, ...]) -> None:
    dataset = sysu_dataset()
    for trial in range(10):
        assert sysu_gallery(dataset, trial, mode) == reference_gallery(dataset.gallery_pool, trial, cams)


def test_sysu_gallery_leaves_global_random_state_untouched() -> None:
    state = random.getstate()
    sysu_gallery(sysu_dataset(), 5, "all")
    assert random.getstate() == state


def test_sysu_gallery_accepts_a_dataset_or_its_pool() -> None:
    dataset = sysu_dataset()
    assert sysu_gallery(dataset, 1, "all") == sysu_gallery(list(dataset.gallery_pool), 1, "all")


def test_unknown_sysu_mode_raises() -> None:
    with pytest.raises(ValueError, match="indoor"):
        sysu_gallery(sysu_dataset(), 0, "outdoor")  # type: ignore[arg-type]


def test_sysu_runner_with_perfect_features_scores_100() -> None:
    result = run_sysu_protocol(one_hot, sysu_dataset(), "all", trials=range(3))
    assert tuple(result.metrics) == METRICS
    assert result.metrics == pytest.approx({name: 100.0 for name in METRICS})
    assert sorted(result.per_trial) == [0, 1, 2]


def test_sysu_runner_featurizes_queries_and_gallery_once_each() -> None:
    calls: list[tuple[Modality, int]] = []

    def counting(records: Sequence[ImageRecord], modality: Modality) -> np.ndarray:
        calls.append((modality, len(records)))
        return one_hot(records, modality)

    run_sysu_protocol(counting, sysu_dataset(), "indoor")
    assert [modality for modality, _ in calls] == [Modality.INFRARED, Modality.VISIBLE]


def test_sysu_runner_with_random_features_is_in_a_sane_range() -> None:
    rng = np.random.default_rng(0)

    def noise(records: Sequence[ImageRecord], modality: Modality) -> np.ndarray:
        return rng.standard_normal((len(records), 16))

    metrics = run_sysu_protocol(noise, sysu_dataset(), "all").metrics
    assert all(0.0 <= value <= 100.0 for value in metrics.values())
    assert metrics["R1"] <= metrics["R10"] <= metrics["R20"]
    assert metrics["R1"] < 100.0 and metrics["mAP"] < 100.0


def regdb_dataset() -> RegdbDataset:
    """Two trials, each with ids 1..3 and two images per id and modality."""

    def images(folder: str, cam: int, modality: Modality) -> tuple[ImageRecord, ...]:
        return tuple(
            ImageRecord(Path(f"{folder}/{pid}_{n}.bmp"), pid, cam, modality) for pid in (1, 2, 3) for n in range(2)
        )

    def trial(t: int) -> RegdbTrial:
        return RegdbTrial(
            trial=t,
            train=EMPTY_TRAIN,
            test_visible=images("Visible", 1, Modality.VISIBLE),
            test_thermal=images("Thermal", 2, Modality.INFRARED),
        )

    return RegdbDataset(root=Path("regdb"), trials={t: trial(t) for t in (1, 2)})


def shifted_thermal(records: Sequence[ImageRecord], modality: Modality) -> np.ndarray:
    """A wrong model: thermal images of pid p look like visible images of pid p+1 (mod 3), so R1 is 0."""
    pids = [r.pid % 3 + 1 if modality == Modality.INFRARED else r.pid for r in records]
    return 5.0 * np.eye(NUM_IDS + 1)[pids]


@pytest.mark.parametrize("direction", ["v2i", "i2v"])
def test_regdb_runner_uses_one_model_per_trial_and_averages(direction: str) -> None:
    models: dict[int, Featurize] = {1: one_hot, 2: shifted_thermal}
    result = run_regdb_protocol(models.__getitem__, regdb_dataset(), direction)  # type: ignore[arg-type]
    assert result.per_trial[1] == pytest.approx({name: 100.0 for name in METRICS})
    assert result.per_trial[2]["R1"] == 0.0
    assert result.metrics["R1"] == pytest.approx(50.0)


@pytest.mark.parametrize("direction, query_modality", [("v2i", Modality.VISIBLE), ("i2v", Modality.INFRARED)])
def test_regdb_direction_picks_the_query_modality(direction: str, query_modality: Modality) -> None:
    seen: list[tuple[Modality, set[Modality]]] = []

    def recording(records: Sequence[ImageRecord], modality: Modality) -> np.ndarray:
        seen.append((modality, {r.modality for r in records}))
        return one_hot(records, modality)

    run_regdb_protocol(lambda t: recording, regdb_dataset(), direction, trials=[1])  # type: ignore[arg-type]
    other = Modality.INFRARED if query_modality == Modality.VISIBLE else Modality.VISIBLE
    assert seen == [(query_modality, {query_modality}), (other, {other})]


def test_regdb_runner_rejects_unknown_direction_and_missing_trial() -> None:
    with pytest.raises(ValueError, match="direction"):
        run_regdb_protocol(lambda t: one_hot, regdb_dataset(), "v2v")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\[7\]"):
        run_regdb_protocol(lambda t: one_hot, regdb_dataset(), "v2i", trials=[1, 7])


def test_summarise_gives_mean_percentages() -> None:
    cmc_a = np.array([0.5] * 9 + [0.75] * 10 + [1.0])
    a = RankResult(cmc=cmc_a, mAP=0.4, mINP=0.2, num_valid_queries=4)
    b = RankResult(cmc=np.ones(20), mAP=0.6, mINP=0.4, num_valid_queries=4)
    assert rank_percentages(a) == pytest.approx({"R1": 50.0, "R10": 75.0, "R20": 100.0, "mAP": 40.0, "mINP": 20.0})
    assert summarise([a, b]) == pytest.approx({"R1": 75.0, "R10": 87.5, "R20": 100.0, "mAP": 50.0, "mINP": 30.0})
