"""The pipeline's own training steps, as its stages take them, on synthetic images:

- an A/B step (mmm.pipeline.contrast._contrast_step): a batch prepared by the stage's inputs (rows gathered, the
  augmentation's draws, the copy to the device, one batch ahead as the stage streams them), augmentation on the
  device, the forward pass, ClusterNCE on both modality memories plus CMC's hybrid-memory loss, backward, Adam, and
  the three memories' momentum updates;
- a stage-C step (mmm.pipeline.alignment_stage._step): the same inputs, confidence-weighted CE, triplet, L_intra
  against per-view prototypes and L_inter, backward, SGD.

Each runs in fp32 or bf16 (mmm.models.numerics: autocast, channels-last on CUDA). The GEMM reference is measured in
the step's precision. Module-level functions, so the memory child can run them.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from mmm.alignment.sca import SCAWeights
from mmm.alignment.views import View
from mmm.choices import Precision
from mmm.data.records import Modality
from mmm.data.sampler import IdentityBalancedSampler, ModalityBatchSampler
from mmm.data.transforms import eval_transform
from mmm.memory.cluster_memory import ClusterMemory
from mmm.memory.hybrid_memory import HybridMemory
from mmm.models.factory import create_backbone
from mmm.models.numerics import ForwardNumerics
from mmm.models.two_stream import TwoStreamNetwork
from mmm.pipeline import alignment_stage, contrast
from mmm.pipeline.alignment_stage import EpochPlan, sca_form
from mmm.pipeline.cmc_link import CmcLink
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.contrast import EpochClusters, ModalityFeatures
from mmm.pipeline.network_inputs import NetworkInputs, PixelInputs, PreparedBatch, StemmedInputs, StemOutputs
from mmm.pipeline.training_images import TrainingImages
from tests.bench.cases import TRAINING_CASES, TrainingCase
from tests.bench.devices import synchronize

CONFIG = PipelineConfig()
# Side of the square matrices of the GEMM reference: large enough to reach the BLAS's peak on a CPU.
GEMM_SIZE = 2048
GEMM_ROUNDS = 5
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16}
# Training rows per modality, as multiples of a batch's: a cluster of each pseudo-identity holds two batches' worth.
ROWS_PER_BATCH = 2


@dataclass
class TrainingState:
    """What a stage's step works on: the model, its optimiser, the stage's inputs and batches, and the stage's
    own state (memories and link for A/B; classifier, confidences and prototypes for C)."""

    case: TrainingCase
    model: TwoStreamNetwork
    inputs: NetworkInputs
    optimizer: torch.optim.Optimizer
    batches: Iterator[PreparedBatch]
    clusters: EpochClusters | None = None
    link: CmcLink | None = None
    classifier: torch.nn.Linear | None = None
    targets: dict[Modality, torch.Tensor] | None = None
    confidence: dict[View, torch.Tensor] | None = None
    prototypes: torch.Tensor | None = None


def _images(rows: int, case: TrainingCase, generator: torch.Generator) -> np.ndarray:
    shape = (rows, case.height, case.width, 3)
    return torch.randint(0, 256, shape, dtype=torch.uint8, generator=generator).numpy()


def _stored_stems(model: TwoStreamNetwork, images: TrainingImages) -> StemOutputs:
    """Stem outputs of every row and view, as mmm.pipeline.stem_encoding stores them (float16)."""

    def encode(stem: torch.nn.Module, rows: np.ndarray) -> torch.Tensor:
        with torch.no_grad():
            return stem(eval_transform(torch.from_numpy(np.ascontiguousarray(rows)).permute(0, 3, 1, 2))).half()

    views = {}
    for modality, rows in ((Modality.VISIBLE, images.visible), (Modality.INFRARED, images.infrared)):
        stem = model.stem_of(modality)
        views[modality] = {"plain": encode(stem, rows), "flip": encode(stem, rows[:, :, ::-1])}
    # The exchange view's outputs cost the same to store and read as any other view's.
    views[Modality.VISIBLE]["exchange"] = views[Modality.VISIBLE]["plain"].clone()
    return StemOutputs(views[Modality.VISIBLE], views[Modality.INFRARED])


def build(case_name: str, device: str, precision: Precision, seed: int = 0) -> tuple[TrainingState]:
    """The training state of a case (a 1-tuple, the argument list of `step`)."""
    case = TRAINING_CASES[case_name]
    torch.manual_seed(seed)
    numerics = ForwardNumerics(torch.device(device), precision)
    model = create_backbone(case.backbone).train()
    rows = ROWS_PER_BATCH * case.per_modality
    generator = torch.Generator().manual_seed(seed)
    images = TrainingImages(
        _images(rows, case, generator),
        _images(rows, case, generator),
        np.zeros(rows, np.int64),
        np.ones(rows, np.int64),
    )
    stems = _stored_stems(model, images) if case.stored_stems else None
    model = model.to(numerics.device).to(memory_format=numerics.memory_format)  # type: ignore[call-overload]
    augment = torch.Generator().manual_seed(seed)
    inputs: NetworkInputs = (
        StemmedInputs(stems, augment, numerics)
        if stems is not None
        else PixelInputs(images, CONFIG.pad, augment, numerics)
    )
    # ROWS_PER_BATCH batches' worth of rows in 2P pseudo-identities: each holds K rows, as a batch draws them.
    labels = np.arange(rows) % (ROWS_PER_BATCH * case.identities)
    if case.stage == "ab":
        return (_ab_state(case, model, inputs, labels, numerics.device),)
    return (_c_state(case, model, inputs, labels, numerics.device),)


def _memory(memory: ClusterMemory, device: torch.device) -> ClusterMemory:
    memory.initialise(torch.randn(memory.num_clusters, memory.num_features))
    return memory.to(device)


def _ab_state(
    case: TrainingCase, model: TwoStreamNetwork, inputs: NetworkInputs, labels: np.ndarray, device: torch.device
) -> TrainingState:
    clusters = int(labels.max()) + 1
    dim = model.feature_dim
    features = ModalityFeatures(torch.empty(len(labels), dim), torch.empty(len(labels), dim))
    memories = [_memory(ClusterMemory(dim, clusters), device) for _ in Modality]
    state = EpochClusters(features, labels, labels, *memories)
    # The pooled clustering found every pseudo-identity in both modalities.
    hybrid = HybridMemory(dim, clusters)
    modality = np.r_[np.zeros(len(labels), np.int64), np.ones(len(labels), np.int64)]
    hybrid.initialise_from_members(torch.randn(2 * len(labels), dim), np.r_[labels, labels], modality)
    link = CmcLink(np.r_[labels, labels], hybrid.to(device), hybrid_batch=False, num_visible=len(labels))
    optimizer = torch.optim.Adam(
        [p for p in model.parameters() if p.requires_grad], lr=CONFIG.lr, weight_decay=CONFIG.weight_decay
    )
    sampler = ModalityBatchSampler(labels, labels, case.identities, case.instances, 1_000_000, seed=0)
    return TrainingState(case, model, inputs, optimizer, inputs.stream(sampler), clusters=state, link=link)


def _c_state(
    case: TrainingCase, model: TwoStreamNetwork, inputs: NetworkInputs, labels: np.ndarray, device: torch.device
) -> TrainingState:
    classes = int(labels.max()) + 1
    classifier = torch.nn.Linear(model.feature_dim, classes, bias=False).to(device)
    optimizer = alignment_stage._optimizer(model, classifier, CONFIG)
    targets = {modality: torch.from_numpy(labels) for modality in Modality}
    confidence = {view: torch.rand(len(labels)) for view in View}
    prototypes = torch.randn(len(View), classes, model.feature_dim, device=device)
    sampler = IdentityBalancedSampler(labels, labels, case.identities, case.instances, 1_000_000, seed=0)
    return TrainingState(
        case,
        model,
        inputs,
        optimizer,
        inputs.stream(sampler),
        classifier=classifier,
        targets=targets,
        confidence=confidence,
        prototypes=prototypes,
    )


# Every stage-C term on, at the paper's weights.
PLAN_C = EpochPlan(SCAWeights(ce=1.0, triplet=1.0, intra=0.5, inter=0.05), confidence=True, prototypes=True)


def step(state: TrainingState) -> float:
    """One training step of the case's stage on the next batch (prepared while the previous step ran); returns the
    step's loss, read after the step (the pipeline reads it once per epoch)."""
    batch = next(state.batches)
    if state.case.stage == "ab":
        assert state.clusters is not None
        loss = contrast._contrast_step(state.model, state.inputs, state.optimizer, state.clusters, state.link, batch)
    else:
        assert state.classifier is not None and state.targets is not None
        host = alignment_stage._host_rows(batch.index_v, batch.index_r, state.targets, state.confidence)
        terms = alignment_stage._step(
            state.model,
            state.classifier,
            state.optimizer,
            state.inputs,
            batch,
            host,
            PLAN_C,
            state.prototypes,
            sca_form(CONFIG),
            CONFIG,
        )
        loss = torch.stack(list(terms.values())).sum()
    synchronize(state.inputs.numerics.device.type)
    return float(loss)


def step_flops(case_name: str, device: str, precision: Precision) -> int:
    """Floating-point operations of one step, by the usual convention of three times the forward pass's (the
    backward computes gradients of both inputs and weights). The forward is counted with torch's flop counter on
    the step's own batch; its backward formulas are not used because they count a depthwise convolution's weight
    gradient as a dense one (several times MobileNetV2's whole step)."""
    (state,) = build(case_name, device, precision)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        state.inputs.forward_prepared(state.model, next(state.batches))
    return 3 * int(counter.get_total_flops())


def gemm_gflops(device: str, precision: Precision = "fp32", size: int = GEMM_SIZE, rounds: int = GEMM_ROUNDS) -> float:
    """The machine's GEMM rate (GFLOP/s) in `precision`: the best of `rounds` square products of side `size`, with
    torch's own thread pool, as a reference for what a training step in that precision achieves."""
    generator = torch.Generator().manual_seed(0)
    dtype = DTYPES[precision]
    a = torch.randn(size, size, generator=generator).to(device, dtype)
    b = torch.randn(size, size, generator=generator).to(device, dtype)
    torch.mm(a, b)  # warm-up: thread pool, allocator
    synchronize(device)
    best = float("inf")
    for _ in itertools.repeat(None, rounds):
        start = time.perf_counter()
        torch.mm(a, b)
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9
