"""Both recipes end to end on the smoke pair, and the release mechanisms as training runs them: a fresh network
for stage C, CMC's separate hybrid batch, and the mixture fitted over augmented train-mode views."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from mmm.alignment.views import View
from mmm.data.records import Modality
from mmm.models.numerics import ForwardNumerics
from mmm.pipeline.alignment_stage import new_classifier
from mmm.pipeline.cmc_link import cmc_link
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.contrast import EpochClusters, extract_both, per_modality_labels, train_contrast_stage
from mmm.pipeline.network import start_network, state_digest
from mmm.pipeline.network_inputs import TrainingData, prepare_training_data
from mmm.pipeline.profiles import profile_config
from mmm.pipeline.run import run_pipeline
from mmm.pipeline.sample_states import epoch_states
from mmm.pipeline.tasks import Task
from mmm.pipeline.training_images import TrainingImages

CPU = torch.device("cpu")


def _prepared(config: PipelineConfig, task: Task, cache: Path) -> tuple[torch.nn.Module, TrainingData]:
    images = TrainingImages.load(task.train, config.height, config.width, cache)
    model, _ = start_network(config, images, cache, CPU)
    return model, prepare_training_data(model, images, cache, CPU)


@pytest.mark.parametrize("recipe", ["paper", "release"])
@pytest.mark.parametrize("dataset", ["sysu", "regdb"])
def test_each_recipe_runs_end_to_end_on_the_smoke_pair(
    recipe: str, dataset: str, sysu_smoke_task: Task, regdb_smoke_task: Task, session_cache: Path
) -> None:
    task = sysu_smoke_task if dataset == "sysu" else regdb_smoke_task
    result = run_pipeline(profile_config("smoke", dataset, recipe=recipe), task, device=CPU, cache_dir=session_cache)
    stage_c = [e for e in result.epochs if e["stage"] == "sca"]
    assert set(stage_c[0]) >= {"ce", "loss"} and "triplet" not in stage_c[0]  # plain-CE warm-up epoch
    assert {"ce", "triplet", "intra", "inter"} <= set(stage_c[-1])
    assert all(np.isfinite(v) for values in result.metrics.values() for v in values.values())


def test_a_fresh_stage_c_starts_from_a_new_start_network(sysu_smoke_task: Task, session_cache: Path) -> None:
    config = profile_config("smoke", "sysu", recipe="release", epochs_c=0)
    result = run_pipeline(config, sysu_smoke_task, device=CPU, cache_dir=session_cache)
    fresh, _ = _prepared(config, sysu_smoke_task, session_cache)
    assert result.model_digest == state_digest(fresh)
    continued = run_pipeline(
        config.with_overrides(alignment_start="continue"), sysu_smoke_task, device=CPU, cache_dir=session_cache
    )
    assert continued.model_digest != result.model_digest  # stages A and B did train the continued one


def test_cmc_second_step_takes_its_own_batches_from_the_pooled_clusters(
    sysu_smoke_task: Task, session_cache: Path
) -> None:
    config = profile_config("smoke", "sysu", cmc_second_step="hybrid_batch", k1_cross=8, k2_cross=4)
    model, data = _prepared(config, sysu_smoke_task, session_cache)
    seen: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]] = []

    def recording_link(clusters: EpochClusters, config: PipelineConfig):
        link = cmc_link(clusters, config)
        original = link.loss

        def loss(feats_v, feats_r, rows_v, rows_r):
            seen.append((rows_v.copy(), rows_r.copy(), link.pooled, link.num_visible))
            return original(feats_v, feats_r, rows_v, rows_r)

        link.loss = loss
        return link

    train_contrast_stage(model, data, config, "cmc", 1, 3, ForwardNumerics(CPU), lambda *_: None, recording_link)
    assert len(seen) == 3
    for rows_v, rows_r, pooled, num_visible in seen:
        assert len(rows_v) % (2 * config.batch_k) == 0 and len(rows_r) % config.batch_k == 0
        assert (pooled[rows_v] >= 0).all() and (pooled[num_visible + rows_r] >= 0).all()
        groups = pooled[rows_v[: len(rows_v) // 2]].reshape(-1, config.batch_k)
        assert (groups == groups[:, :1]).all()  # K rows of one pooled cluster each


def test_the_release_mixture_fits_augmented_train_mode_views(sysu_smoke_task: Task, session_cache: Path) -> None:
    config = profile_config("smoke", "sysu", recipe="release")
    model, data = _prepared(config, sysu_smoke_task, session_cache)
    inputs = data.inputs(config.pad, torch.Generator().manual_seed(0), ForwardNumerics(CPU))
    labels_v, labels_r = per_modality_labels(extract_both(model, inputs, "test"), config, CPU)
    labels_v[:3] = -1
    targets = {Modality.VISIBLE: torch.from_numpy(labels_v), Modality.INFRARED: torch.from_numpy(labels_r)}
    num_classes = int(max(labels_v.max(), labels_r.max())) + 1
    classifier = new_classifier(model, num_classes, config)
    running = dict((name, b.clone()) for name, b in model.named_buffers() if "running_mean" in name)

    def states(source: str):
        return epoch_states(
            model,
            classifier,
            inputs,
            targets,
            source,
            config.loss_feature,
            16,
            confidence=True,
            prototypes=True,
            num_classes=num_classes,
            seed=0,
            max_iter=config.gmm_max_iter,
        )

    clean = states("clean_eval")
    assert torch.equal(clean.confidence[View.VISIBLE_1], clean.confidence[View.VISIBLE_2])
    assert torch.equal(clean.prototypes[View.VISIBLE_1], clean.prototypes[View.VISIBLE_2])
    augmented = states("augmented_train")
    assert not torch.equal(augmented.confidence[View.VISIBLE_1], augmented.confidence[View.VISIBLE_2])
    assert not torch.equal(augmented.prototypes[View.VISIBLE_1], augmented.prototypes[View.VISIBLE_2])
    assert (augmented.confidence[View.VISIBLE_1][:3] == 0).all()  # outliers carry no weight
    # Train mode: the trainable blocks' BatchNorm statistics moved during the pass (the clean pass leaves them).
    moved = [name for name, b in model.named_buffers() if name in running and not torch.equal(b, running[name])]
    assert moved and not any("stem" in name for name in moved)
