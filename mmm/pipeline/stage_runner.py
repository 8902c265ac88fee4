"""What runs a stage besides its training: the stage store (an output computed once is loaded, and its epochs
replayed to the records, by every later run that shares it), the per-epoch records, timings and progress events.

mmm.pipeline.run reads as the method's sequence of stages; each call there is one StageRunner method.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from mmm.choices import OBJECTIVE_PROTOCOLS, PRIMARY_PROTOCOLS, TEST_CURVE, Stage
from mmm.data.records import Modality
from mmm.matching.mmlm import multi_memory_match
from mmm.models.numerics import ForwardNumerics
from mmm.pipeline.alignment_stage import MatchedLabels, train_alignment_stage
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.contrast import (
    LinkFactory,
    ModalityFeatures,
    extract_both,
    per_modality_labels,
    train_contrast_stage,
)
from mmm.pipeline.hooks import Diagnose, ProgressCallback, ProgressEvent, StageStore
from mmm.pipeline.network import make_featurize, start_network, state_digest
from mmm.pipeline.network_inputs import prepare_training_data
from mmm.pipeline.result import RunResult
from mmm.pipeline.stage_keys import stage_key
from mmm.pipeline.tasks import Task, assess, protocol_means
from mmm.pipeline.training_images import TrainingImages

log = logging.getLogger(__name__)


class RunRecorder:
    """Collects per-epoch records, forwards progress events and asks the caller's diagnose hook."""

    def __init__(self, on_progress: ProgressCallback | None, diagnose: Diagnose | None) -> None:
        self.on_progress = on_progress
        self.diagnose = diagnose
        self.epochs: list[dict[str, Any]] = []
        self.stage_seconds: dict[str, float] = {}
        self.cached_stages: list[str] = []

    def observe(self, stage: str, epoch: int, values: dict[str, Any]) -> None:
        """A record that is neither progress nor diagnosis (the test curve): kept, told to no one."""
        self.epochs.append({"stage": stage, "epoch": epoch, **values})

    def epoch(
        self, stage: str, epoch: int, epochs: int, values: dict[str, float], pseudo: dict[str, np.ndarray] | None = None
    ) -> None:
        record = {"stage": stage, "epoch": epoch, **values}
        if pseudo and self.diagnose is not None:
            record.update(self.diagnose(stage, epoch, pseudo))
        self.epochs.append(record)
        if self.on_progress is not None:
            self.on_progress(ProgressEvent(stage, epoch, epochs, dict(values)))

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        yield
        self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + time.perf_counter() - start


def report_evaluation(metrics: dict[str, dict[str, float]], on_progress: ProgressCallback | None) -> None:
    """Report the primary protocol's mAP and R1 (SYSU all-search, RegDB visible->infrared; on a validation task their
    validation counterparts, what a search prunes on) as an "eval" event."""
    if on_progress is not None:
        primaries = (*PRIMARY_PROTOCOLS.values(), *OBJECTIVE_PROTOCOLS.values())
        primary = next((metrics[p] for p in primaries if p in metrics), next(iter(metrics.values())))
        on_progress(ProgressEvent(Stage.EVAL, 0, 1, {"mAP": primary["mAP"], "R1": primary["R1"]}))


# (features, visible cluster labels, infrared cluster labels, config, the run's device) -> each visible row's infrared
# label, -1 where dropped
AssignClusters = Callable[[ModalityFeatures, np.ndarray, np.ndarray, PipelineConfig, torch.device], np.ndarray]


def mmlm_assign(
    features: ModalityFeatures,
    labels_v: np.ndarray,
    labels_r: np.ndarray,
    config: PipelineConfig,
    device: torch.device,
) -> np.ndarray:
    """MMLM: the clusters' memories matched across modalities (mmm.matching.mmlm). The sub-centres' k-means and the
    Chamfer cost run on the run's device; the assignment on the host."""
    match = multi_memory_match(
        features.visible.to(device),
        labels_v,
        features.infrared.to(device),
        labels_r,
        n=config.memories,
        solver=config.solver,
        direction=config.cost_direction,
        seed=config.seed,
        iters=config.kmeans_iters,
        skip_last=config.mmlm_skip_last,
        restarts=config.kmeans_restarts,
    )
    return np.asarray(match.labels_v)


@dataclass(frozen=True)
class ClusterMatcher:
    """What matches the per-modality clusters after the contrastive stages: MMLM, or a reference's matcher."""

    stage: Stage  # its name in records, the stage store and the cache key
    assign: AssignClusters
    key_extra: dict[str, str] = field(default_factory=dict)  # what distinguishes it in the cache key


MMLM_MATCHER = ClusterMatcher(Stage.MMLM, mmlm_assign)


class StageRunner:
    """One run's network, training data and records; each method runs one stage of the method on them."""

    def __init__(
        self,
        config: PipelineConfig,
        task: Task,
        device: torch.device,
        cache_dir: Path,
        store: StageStore | None,
        on_progress: ProgressCallback | None,
        diagnose: Diagnose | None,
    ) -> None:
        if task.dataset != config.dataset:
            raise ValueError(f"config is for dataset {config.dataset!r} but the task is {task.name!r}")
        self.config, self.task, self.device, self.cache_dir, self.store = config, task, device, cache_dir, store
        self.numerics = ForwardNumerics.of(device, config.precision)
        self.recorder = RunRecorder(on_progress, diagnose)
        with self.recorder.timed(Stage.IMAGES):
            self.images = TrainingImages.load(task.train, config.height, config.width, cache_dir)
        with self.recorder.timed(Stage.STEMS):
            self.model, weights = start_network(config, self.images, cache_dir, device)
            self.data = prepare_training_data(self.model, self.images, cache_dir, device)
        self.weights = weights
        self.start_weights = "none" if weights is None else weights.sha256
        self.featurize = make_featurize(self.model, config, cache_dir, device)
        self.upstream: Stage | None = None  # the last contrastive stage, part of MMLM's cache key
        self.last_pseudo: dict[str, np.ndarray] = {}  # the pseudo-labels of the last contrastive epoch

    def contrast(self, stage: Stage, link: LinkFactory | None = None, key_extra: dict[str, str] | None = None) -> None:
        """A cluster-contrast stage: DCL alone (no link), or a cross-modality stage with its link (CMC, the
        centroid-Hungarian baseline)."""
        config = self.config
        epochs, iters = (config.epochs_a, config.iters_a) if link is None else (config.epochs_b, config.iters_b)
        key = stage_key(
            stage, self.task.fingerprint, config, key_extra, weights=self.start_weights, numerics=self.numerics.key
        )
        model = self.model

        def compute() -> dict[str, Any]:
            history: list[dict[str, Any]] = []

            def on_epoch(epoch: int, values: dict[str, float], pseudo: dict[str, np.ndarray]) -> None:
                history.append({"values": values, "pseudo": {k: v.astype(np.int32) for k, v in pseudo.items()}})
                self.recorder.epoch(stage, epoch, epochs, values, pseudo)
                self.last_pseudo = pseudo

            train_contrast_stage(model, self.data, config, stage, epochs, iters, self.numerics, on_epoch, link)
            state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
            return {"model": state, "history": history}

        def replay(value: dict[str, Any]) -> None:
            model.load_state_dict(value["model"])
            for epoch, item in enumerate(value["history"]):
                self.recorder.epoch(stage, epoch, epochs, item["values"], item["pseudo"])
                self.last_pseudo = item["pseudo"]

        self._cached(stage, key, compute, replay)
        self.upstream = stage

    def match(self, matcher: ClusterMatcher = MMLM_MATCHER) -> MatchedLabels:
        """Per-modality clusters of the current network's features, matched across modalities by `matcher`
        (MMLM unless a reference brings its own)."""
        config = self.config
        extra = {"after": str(self.upstream), **matcher.key_extra}
        key = stage_key(
            matcher.stage, self.task.fingerprint, config, extra, weights=self.start_weights, numerics=self.numerics.key
        )

        def compute() -> dict[str, Any]:
            inputs = self.data.inputs(config.pad, torch.Generator(), self.numerics)
            features = extract_both(self.model, inputs, f"stage {Stage.MMLM}")
            labels_v, labels_r = per_modality_labels(features, config, self.device)
            matched = matcher.assign(features, labels_v, labels_r, config, self.device)
            pseudo = {"visible": labels_v, "infrared": labels_r, "matched_visible": matched}
            return {"pseudo": {k: v.astype(np.int32) for k, v in pseudo.items()}}

        pseudo = self._cached(matcher.stage, key, compute, lambda _value: None)["pseudo"]
        self.recorder.epoch(
            matcher.stage,
            0,
            1,
            {
                "clusters_visible": float(pseudo["visible"].max() + 1),
                "clusters_infrared": float(pseudo["infrared"].max() + 1),
            },
            pseudo,
        )
        return MatchedLabels(pseudo["matched_visible"].astype(np.int64), pseudo["infrared"].astype(np.int64))

    def pooled_labels(self) -> MatchedLabels:
        """Stage C's labels straight from CMC's pooled clustering of its last epoch (visible rows first, then
        infrared), with no matching: a control for what MMLM adds beyond more training."""
        if self.upstream != Stage.CMC or "pooled" not in self.last_pseudo:
            raise ValueError(f"labels from CMC's pooled clusters need CMC to have run (last stage: {self.upstream})")
        pooled = self.last_pseudo["pooled"].astype(np.int64)
        visible = self.data.count(Modality.VISIBLE)
        return MatchedLabels(pooled[:visible], pooled[visible:])

    def given_labels(self, stage: Stage, labels: MatchedLabels, pseudo: dict[str, np.ndarray]) -> MatchedLabels:
        """Labels a reference brings in MMLM's place, recorded as one epoch of `stage` with `pseudo` (per-modality
        labels and matched_visible, as match() records them) for the diagnostics."""
        values = {"identities": float(labels.num_classes)}
        self.recorder.epoch(stage, 0, 1, values, pseudo)
        return labels

    def align(self, labels: MatchedLabels) -> None:
        """SCA on the matched labels, from the current network or, when the config says so, a fresh start. With
        eval_every, the test metrics every that many epochs and after the last are recorded as a curve: nothing
        reads them back, and the result stays the last epoch's."""
        config = self.config
        curve_seconds = 0.0

        def on_epoch(epoch: int, values: dict[str, float]) -> None:
            nonlocal curve_seconds
            self.recorder.epoch(Stage.SCA, epoch, config.epochs_c, values)
            last = epoch == config.epochs_c - 1
            if config.eval_every and ((epoch + 1) % config.eval_every == 0 or last):
                started = time.perf_counter()
                with self.recorder.timed(Stage.EVAL):
                    metrics = protocol_means(self.task.evaluate(self.featurize))
                curve_seconds += time.perf_counter() - started
                self.recorder.observe(Stage.SCA, epoch, {TEST_CURVE: metrics})

        with self.recorder.timed(Stage.SCA):
            if self.config.alignment_start == "fresh":
                # The release trains this stage from a new start network. Frozen stems are the start's own, so
                # their stored outputs still serve.
                self.model, _ = start_network(self.config, self.images, self.cache_dir, self.device)
                self.featurize = make_featurize(self.model, self.config, self.cache_dir, self.device)
            train_alignment_stage(
                self.model,
                self.data,
                labels,
                self.config,
                self.numerics,
                on_epoch,
            )
        # The curve's evaluations count as evaluation time, not as training.
        self.recorder.stage_seconds[Stage.SCA] -= curve_seconds

    def report_intermediate(self) -> None:
        """With intermediate_eval, the current network's metrics on the task's evaluation set (a search trial's:
        validation) as a progress event; a search prunes on it."""
        if self.config.intermediate_eval:
            report_evaluation(protocol_means(self.task.evaluate(self.featurize)), self.recorder.on_progress)

    def result(self) -> RunResult:
        """The final network's evaluation (last epoch), its kept features and everything recorded."""
        with self.recorder.timed(Stage.EVAL):
            assessment = assess(self.task, self.featurize)
        report_evaluation(assessment.metrics, self.recorder.on_progress)
        return RunResult(
            metrics=assessment.metrics,
            trial_metrics=assessment.trial_metrics,
            features=assessment.features,
            epochs=self.recorder.epochs,
            stage_seconds=self.recorder.stage_seconds,
            cached_stages=self.recorder.cached_stages,
            model_digest=state_digest(self.model),
            weights=None if self.weights is None else self.weights.as_dict(),
        )

    def _cached(
        self,
        stage: Stage,
        key: str,
        compute: Callable[[], dict[str, Any]],
        replay: Callable[[dict[str, Any]], None],
    ) -> dict[str, Any]:
        """The output of `stage`: from the store when present (`replay` restores it), else computed and stored."""
        with self.recorder.timed(stage):
            value = self.store.load(stage, key) if self.store is not None else None
            if value is not None:
                log.info("stage %s loaded from the stage store (%s)", stage, key)
                replay(value)
                self.recorder.cached_stages.append(stage)
            else:
                value = compute()
                if self.store is not None:
                    self.store.save(stage, key, value)
        return value
