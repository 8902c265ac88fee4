"""One pipeline run: stage A -> stage B (CMC) -> MMLM -> stage C (SCA) -> evaluation, with the toggles of the
config, cached stage outputs, progress events and ground-truth diagnostics supplied by the caller."""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from mmm.data.image_store import load_images
from mmm.data.records import ImageRecord, Modality
from mmm.features.extract import extract_features
from mmm.matching.mmlm import multi_memory_match
from mmm.models.factory import build_backbone
from mmm.models.pretrained import WeightFile
from mmm.models.two_stream import TwoStreamNetwork
from mmm.pipeline.alignment_stage import MatchedLabels, train_alignment_stage
from mmm.pipeline.cmc_link import cmc_link
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.contrast import LinkFactory, extract_both, per_modality_labels, train_contrast_stage
from mmm.pipeline.hooks import Diagnose, ProgressCallback, ProgressEvent, StageStore
from mmm.pipeline.network_inputs import TrainingData, prepare_training_data, stemmed_features
from mmm.pipeline.result import RunResult
from mmm.pipeline.stage_keys import stage_key
from mmm.pipeline.stem_encoding import adapt_stems, encode_images
from mmm.pipeline.tasks import Featurize, Task, protocol_means, protocol_trials
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

    def epoch(self, stage: str, epoch: int, epochs: int, values: dict[str, float],
              pseudo: dict[str, np.ndarray] | None = None) -> None:
        record = {"stage": stage, "epoch": epoch, **values}
        if pseudo and self.diagnose is not None:
            record.update(self.diagnose(stage, epoch, pseudo))
        self.epochs.append(record)
        if self.on_progress is not None:
            self.on_progress(ProgressEvent(stage, epoch, epochs, dict(values)))


def state_digest(model: torch.nn.Module) -> str:
    """sha256 over the model's state dict (names and raw bytes, in order)."""
    digest = hashlib.sha256()
    for name, tensor in model.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def make_featurize(model: TwoStreamNetwork, config: PipelineConfig, cache_dir: Path, device: torch.device) -> Featurize:
    """Test-time features of records (through the stem of their modality), flip-averaged and L2-normalised, as
    numpy. Frozen stems encode each test image once; later evaluations read their stored outputs."""

    def featurize(records: list[ImageRecord], modality: Modality) -> np.ndarray:
        images = load_images([r.path for r in records], config.height, config.width, cache_dir)
        if model.frozen_stems:
            views = encode_images(model, images, modality, ("plain", "flip"), cache_dir, device)
            return stemmed_features(model, views["plain"], views["flip"], device).numpy()
        return extract_features(model, images, modality, device=device).numpy()

    return featurize


def start_network(
    config: PipelineConfig, images: TrainingImages, cache_dir: Path, device: torch.device
) -> tuple[TwoStreamNetwork, WeightFile | None]:
    """The network every method starts from: the config's backbone and starting weights (seeded), its frozen
    stems, if any, given each modality's BatchNorm statistics from the training images (no labels read)."""
    torch.manual_seed(config.seed)
    model, weights = build_backbone(config.backbone, config.pretrained)
    model = model.to(device)
    if model.frozen_stems:
        adapt_stems(model, images.visible, images.infrared, cache_dir, device)
    return model, weights


def _cached(
    store: StageStore | None, recorder: RunRecorder, stage: str, key: str, compute: Callable[[], dict[str, Any]],
    replay: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """The output of `stage`: from the store when present (its epochs replayed to the recorder), else computed."""
    start = time.perf_counter()
    value = store.load(stage, key) if store is not None else None
    if value is not None:
        log.info("stage %s loaded from the stage store (%s)", stage, key)
        replay(value)
        recorder.cached_stages.append(stage)
    else:
        value = compute()
        if store is not None:
            store.save(stage, key, value)
    recorder.stage_seconds[stage] = time.perf_counter() - start
    return value


@dataclass(frozen=True)
class SecondStage:
    """A contrastive stage after stage A that links the modalities (CMC's stage B, or a baseline's)."""

    name: str  # stage name in records, the stage store and the cache key
    link: LinkFactory  # builds the epoch's cross-modality loss
    key_extra: dict[str, str]  # what distinguishes it in the cache key beside the stage-B config fields


CMC_STAGE = SecondStage("B", cmc_link, {"link": "cmc"})


def _contrast_stage(
    stage: str, model: TwoStreamNetwork, data: TrainingData, config: PipelineConfig, key: str,
    store: StageStore | None, recorder: RunRecorder, device: torch.device, link: LinkFactory | None = None,
) -> None:
    epochs, iters = (config.epochs_a, config.iters_a) if link is None else (config.epochs_b, config.iters_b)

    def compute() -> dict[str, Any]:
        history: list[dict[str, Any]] = []

        def on_epoch(epoch: int, values: dict[str, float], pseudo: dict[str, np.ndarray]) -> None:
            history.append({"values": values, "pseudo": {k: v.astype(np.int32) for k, v in pseudo.items()}})
            recorder.epoch(stage, epoch, epochs, values, pseudo)

        train_contrast_stage(model, data, config, stage, epochs, iters, device, on_epoch, link)
        return {"model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, "history": history}

    def replay(value: dict[str, Any]) -> None:
        model.load_state_dict(value["model"])
        for epoch, item in enumerate(value["history"]):
            recorder.epoch(stage, epoch, epochs, item["values"], item["pseudo"])

    _cached(store, recorder, stage, key, compute, replay)


def _match_stage(
    model: TwoStreamNetwork, data: TrainingData, config: PipelineConfig, key: str,
    store: StageStore | None, recorder: RunRecorder, device: torch.device,
) -> MatchedLabels:
    def compute() -> dict[str, Any]:
        features = extract_both(model, data.inputs(config.pad, torch.Generator(), device))
        labels_v, labels_r = per_modality_labels(features, config)
        match = multi_memory_match(
            features.visible, labels_v, features.infrared, labels_r, n=config.memories, solver=config.solver,
            direction=config.cost_direction, seed=config.seed, iters=config.kmeans_iters,
            skip_last=config.mmlm_skip_last,
        )
        pseudo = {"visible": labels_v, "infrared": labels_r, "matched_visible": np.asarray(match.labels_v)}
        return {"pseudo": {k: v.astype(np.int32) for k, v in pseudo.items()}}

    value = _cached(store, recorder, "MMLM", key, compute, lambda _value: None)
    pseudo = value["pseudo"]
    recorder.epoch("MMLM", 0, 1, {"clusters_visible": float(pseudo["visible"].max() + 1),
                                  "clusters_infrared": float(pseudo["infrared"].max() + 1)}, pseudo)
    return MatchedLabels(pseudo["matched_visible"].astype(np.int64), pseudo["infrared"].astype(np.int64))


def report_evaluation(metrics: dict[str, dict[str, float]], on_progress: ProgressCallback | None) -> None:
    """Report the first protocol's mAP and R1 (SYSU all-search, RegDB visible->infrared) as an "eval" event."""
    if on_progress is not None:
        primary = next(iter(metrics.values()))
        on_progress(ProgressEvent("eval", 0, 1, {"mAP": primary["mAP"], "R1": primary["R1"]}))


def run_stages(
    config: PipelineConfig,
    task: Task,
    *,
    second: SecondStage | None,
    align: bool,
    device: torch.device,
    cache_dir: Path,
    store: StageStore | None = None,
    on_progress: ProgressCallback | None = None,
    diagnose: Diagnose | None = None,
) -> RunResult:
    """Stage A, then `second` (if any), then MMLM + stage C when `align`, then the task's evaluation."""
    if task.dataset != config.dataset:
        raise ValueError(f"config is for dataset {config.dataset!r} but the task is {task.name!r}")
    recorder = RunRecorder(on_progress, diagnose)
    start = time.perf_counter()
    images = TrainingImages.load(task.train, config.height, config.width, cache_dir)
    recorder.stage_seconds["images"] = time.perf_counter() - start

    start = time.perf_counter()
    model, weights = start_network(config, images, cache_dir, device)
    start_weights = "none" if weights is None else weights.sha256
    data = prepare_training_data(model, images, cache_dir, device)
    recorder.stage_seconds["stems"] = time.perf_counter() - start
    featurize = make_featurize(model, config, cache_dir, device)
    key = stage_key("A", task.fingerprint, config, weights=start_weights)
    _contrast_stage("A", model, data, config, key, store, recorder, device)
    upstream = "A"
    if second is not None:
        if config.intermediate_eval:
            report_evaluation(protocol_means(task.evaluate(featurize)), on_progress)
        key = stage_key("B", task.fingerprint, config, second.key_extra, weights=start_weights)
        _contrast_stage(second.name, model, data, config, key, store, recorder, device, second.link)
        upstream = second.name
    if align and config.intermediate_eval:
        report_evaluation(protocol_means(task.evaluate(featurize)), on_progress)
    if align:
        key = stage_key("MMLM", task.fingerprint, config, {"after": upstream}, weights=start_weights)
        labels = _match_stage(model, data, config, key, store, recorder, device)
        start = time.perf_counter()
        if config.alignment_start == "fresh":
            # The release trains stage C from a new start network on the matched labels. Frozen stems are the
            # start's own, so their stored outputs still serve.
            model, _ = start_network(config, images, cache_dir, device)
            featurize = make_featurize(model, config, cache_dir, device)
        train_alignment_stage(
            model, data, labels, config, device,
            lambda epoch, values: recorder.epoch("C", epoch, config.epochs_c, values),
        )
        recorder.stage_seconds["C"] = time.perf_counter() - start

    start = time.perf_counter()
    evaluation = task.evaluate(featurize)
    recorder.stage_seconds["eval"] = time.perf_counter() - start
    metrics = protocol_means(evaluation)
    report_evaluation(metrics, on_progress)
    return RunResult(
        metrics=metrics,
        trial_metrics=protocol_trials(evaluation),
        epochs=recorder.epochs,
        stage_seconds=recorder.stage_seconds,
        cached_stages=recorder.cached_stages,
        model_digest=state_digest(model),
        weights=None if weights is None else weights.as_dict(),
    )


def run_pipeline(
    config: PipelineConfig,
    task: Task,
    *,
    device: torch.device,
    cache_dir: Path,
    store: StageStore | None = None,
    on_progress: ProgressCallback | None = None,
    diagnose: Diagnose | None = None,
) -> RunResult:
    """MMM as the config's toggles select: `cmc` runs stage B, `mmlm` runs MMLM + stage C (off: evaluate the
    model after stage B, the paper's "CMC only" row). A Method (mmm.pipeline.method); metrics are last-epoch."""
    return run_stages(
        config, task, second=CMC_STAGE if config.cmc else None, align=config.mmlm, device=device,
        cache_dir=cache_dir, store=store, on_progress=on_progress, diagnose=diagnose,
    )
