"""The validation splits a tuning search uses: SYSU-MM01's exp/val_id.txt identities and a seeded fifth of each RegDB
trial's training identities, held out of training, disjoint from the test identities, scored under "val-" names,
and recorded on the task."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmm.data.datasets import RegdbDataset, SysuDataset
from mmm.data.errors import DatasetError
from mmm.data.records import Modality
from mmm.data.regdb import read_regdb
from mmm.data.synthetic import ensure_synthetic_pair, ground_truth_by_path, smoke_spec
from mmm.data.sysu import read_id_file, read_sysu
from mmm.data.validation import REGDB_HOLDOUT_SEED, regdb_held_out_ids
from mmm.pipeline.tasks import regdb_task, regdb_validation_task, sysu_task, sysu_validation_task


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return ensure_synthetic_pair(tmp_path_factory.mktemp("syn"), smoke_spec(seed=5))


@pytest.fixture(scope="module")
def sysu(pair: tuple[Path, Path]) -> SysuDataset:
    return read_sysu(pair[0])


@pytest.fixture(scope="module")
def regdb(pair: tuple[Path, Path]) -> RegdbDataset:
    return read_regdb(pair[1])


def test_sysu_validation_ids_are_val_id_txt_disjoint_from_train_ids_and_test_ids(sysu: SysuDataset) -> None:
    exp = sysu.root / "exp"
    val_ids = set(read_id_file(exp / "val_id.txt"))
    split = sysu.validation
    assert split is not None and set(split.ids) == val_ids and val_ids
    assert not val_ids & set(read_id_file(exp / "train_id.txt"))
    assert not val_ids & set(read_id_file(exp / "test_id.txt"))
    scored = split.visible + split.infrared
    assert {r.pid for r in scored} == val_ids
    assert {r.modality for r in split.infrared} == {Modality.INFRARED} and {r.camid for r in split.infrared} <= {3, 6}
    assert {r.modality for r in split.visible} == {Modality.VISIBLE}
    # The search trains on the train ids alone; with the val images it makes up the whole training split.
    assert set(split.train.ground_truth.pids.tolist()) == set(read_id_file(exp / "train_id.txt"))
    assert {im.path for im in split.train.images} | {r.path for r in scored} == {im.path for im in sysu.train.images}
    assert not {im.path for im in split.train.images} & {r.path for r in scored}


def test_sysu_validation_task_scores_val_ids_in_the_all_search_shape_only(sysu: SysuDataset) -> None:
    task = sysu_validation_task(sysu, eval_trials=2)
    test = sysu_task(sysu, eval_trials=2)
    assert task.held_out == sysu.validation.ids and "val_id.txt" in task.rule  # type: ignore[union-attr]
    assert task.fingerprint != test.fingerprint and task.name != test.name
    featurized: list[set[int]] = []

    def featurize(records, modality):  # type: ignore[no-untyped-def]
        featurized.append({r.pid for r in records})
        return np.random.default_rng(0).normal(size=(len(records), 8))

    evaluation = task.evaluate(featurize)
    assert set(evaluation) == {"val-all"} and set(evaluation["val-all"].per_trial) == {0, 1}
    assert set().union(*featurized) == set(task.held_out)


def test_sysu_id_listed_in_both_train_and_val_is_reported(tmp_path: Path, pair: tuple[Path, Path]) -> None:
    import shutil

    root = tmp_path / "SYSU-MM01"
    shutil.copytree(pair[0], root)
    train = read_id_file(root / "exp" / "train_id.txt")
    (root / "exp" / "val_id.txt").write_text(f"{train[0]}\n")
    with pytest.raises(DatasetError, match=f"val_id.txt: val ids also listed in train_id.txt: \\[{train[0]}\\]"):
        read_sysu(root)


def test_regdb_hold_out_is_a_seeded_fifth_of_each_trials_training_ids(regdb: RegdbDataset) -> None:
    # idx/ labels number the identities within each list, so the generator's ground truth tells who is who.
    identity = {path: row.identity for path, row in ground_truth_by_path(regdb.root).items()}
    held = {}
    for trial, split in regdb.trials.items():
        validation = split.validation
        assert validation is not None
        train_ids = set(split.train.ground_truth.pids.tolist())
        assert set(validation.ids) <= train_ids and len(validation.ids) == max(2, round(len(train_ids) / 5))
        scored = {identity[r.path] for r in validation.visible + validation.infrared}
        tested = {identity[r.path] for r in split.test_visible + split.test_thermal}
        trained = {identity[im.path] for im in validation.train.images}
        assert scored and not scored & tested and not scored & trained
        assert not set(validation.ids) & set(validation.train.ground_truth.pids.tolist())
        assert {r.pid for r in validation.visible} == set(validation.ids) == {r.pid for r in validation.infrared}
        assert f"seed ({REGDB_HOLDOUT_SEED}, {trial})" in validation.rule
        held[trial] = validation.ids
    # Fixed: the same on every read; seeded per trial: not one set for all trials.
    assert {t: s.validation.ids for t, s in read_regdb(regdb.root).trials.items()} == held  # type: ignore[union-attr]
    assert len(set(held.values())) > 1


def test_regdb_hold_out_of_the_real_size_is_41_of_206_and_depends_only_on_seed_and_trial() -> None:
    ids = list(range(1000, 1206))
    chosen = regdb_held_out_ids(ids, trial=3)
    assert len(chosen) == 41 and set(chosen) <= set(ids)
    assert regdb_held_out_ids(list(reversed(ids)), trial=3) == chosen
    assert regdb_held_out_ids(ids, trial=4) != chosen
    assert regdb_held_out_ids(ids, trial=3, seed=1) != chosen


def test_regdb_validation_task_scores_both_directions_and_records_the_hold_out(regdb: RegdbDataset) -> None:
    task = regdb_validation_task(regdb, 1)
    assert task.held_out == regdb.trials[1].validation.ids  # type: ignore[union-attr]
    assert task.fingerprint != regdb_task(regdb, 1).fingerprint
    seen: list[set[int]] = []

    def featurize(records, modality):  # type: ignore[no-untyped-def]
        seen.append({r.pid for r in records})
        return np.random.default_rng(1).normal(size=(len(records), 8))

    assert set(task.evaluate(featurize)) == {"val-v2i", "val-i2v"}
    assert set().union(*seen) == set(task.held_out)
