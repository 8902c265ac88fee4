"""The pipeline's configuration: every stage's constants, the ablation toggles and the paper-vs-code choices.

Defaults are the paper's reading (docs/design.md §1). The two recipes (mmm.pipeline.recipes: `paper`, `release`) set
every field where the paper text and the authors' released code differ; profiles (mmm.pipeline.profiles) set the
sizes of CPU runs.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, get_args

from mmm.choices import (
    PRECISIONS,
    AlignmentLabels,
    AlignmentStart,
    ClassifierInit,
    CmcSecondStep,
    CostDirection,
    DatasetName,
    EpochLength,
    InterForm,
    IntraDistance,
    IntraReduction,
    LossFeature,
    NeckLearningRate,
    Precision,
    Recipe,
    SampleStates,
    Solver,
    WarmupSampler,
)

# Every Literal-typed field and its valid values, checked in __post_init__.
CHOICES: dict[str, tuple[str, ...]] = {
    "dataset": get_args(DatasetName),
    "recipe": get_args(Recipe),
    "solver": get_args(Solver),
    "cost_direction": get_args(CostDirection),
    "intra_distance": get_args(IntraDistance),
    "cmc_second_step": get_args(CmcSecondStep),
    "alignment_start": get_args(AlignmentStart),
    "alignment_labels": get_args(AlignmentLabels),
    "epoch_length_c": get_args(EpochLength),
    "loss_feature": get_args(LossFeature),
    "intra_reduction": get_args(IntraReduction),
    "inter_form": get_args(InterForm),
    "sample_states": get_args(SampleStates),
    "neck_lr": get_args(NeckLearningRate),
    "classifier_init": get_args(ClassifierInit),
    "warmup_sampler": get_args(WarmupSampler),
}


@dataclass(frozen=True)
class PipelineConfig:
    recipe: Recipe = "paper"  # the recipe profile_config applied (a label: setting it alone changes no other field)
    # --- data and model ---
    dataset: DatasetName = "sysu"  # which dataset's constants apply (eps, CMC k1/k2)
    backbone: str = "agw_resnet50"  # preset name from mmm.models.factory.create_backbone
    pretrained: str = "imagenet"  # "imagenet" (the backbone's ImageNet file), "none" (random init) or a file path
    height: int = 288  # input height in pixels
    width: int = 144  # input width in pixels
    pad: int = 10  # zero padding before the random crop
    seed: int = 0  # seeds model init, sampling, augmentation, k-means and the GMM
    # --- stage A: intra-modality cluster contrast (DCL) ---
    epochs_a: int = 50  # stage-A epochs (one clustering per epoch)
    iters_a: int = 200  # optimiser steps per stage-A epoch
    batch_p: int = 12  # pseudo-identities per modality in a stage-A/B batch
    batch_k: int = 16  # instances per pseudo-identity in a stage-A/B batch
    camera_aware: bool = False  # stage-A/B batches: an identity's other instances from cameras unlike its anchor's
    lr: float = 3.5e-4  # Adam learning rate of stages A and B
    weight_decay: float = 5e-4  # Adam weight decay of stages A and B
    step_size: int = 20  # StepLR period (epochs) of stages A and B
    k1: int = 30  # Jaccard k1 of the per-modality clustering
    k2: int = 6  # Jaccard k2 of the per-modality clustering
    eps: float | None = None  # DBSCAN eps; None = 0.6 for sysu, 0.3 for regdb (code)
    min_samples: int = 4  # DBSCAN min_samples
    temperature: float = 0.05  # ClusterNCE temperature tau
    momentum: float = 0.1  # memory momentum m: c <- m*c + (1-m)*f
    # --- stage B: CMC cross-modality clustering ---
    cmc: bool = True  # run stage B (off: MMLM/stage C start from the stage-A model)
    epochs_b: int = 50  # stage-B epochs
    iters_b: int = 200  # optimiser steps per stage-B epoch
    k1_cross: int | None = None  # pooled Jaccard k1; None = 40 sysu / 38 regdb
    k2_cross: int | None = None  # pooled Jaccard k2; None = 32 sysu / 18 regdb
    cmc_second_step: CmcSecondStep = "none"  # none: one step on L_V+L_R+L_VR; hybrid_batch: then a step on L_VR
    # over a separate batch drawn from the hybrid (pooled) clusters
    # --- MMLM ---
    mmlm: bool = True  # off: stop after stage B and evaluate that model ("CMC only"); on: stage C follows
    memories: int = 4  # sub-centres per cluster (1 = centroid matching)
    solver: Solver = "hungarian"  # paper: Hungarian + second round; code: greedy argmin
    cost_direction: CostDirection = "visible"  # paper sums over visible memories; code over infrared
    kmeans_iters: int = 20  # most Lloyd iterations of the sub-centres' k-means (it stops once no assignment changes)
    kmeans_restarts: int = 1  # k-means++ starts per cluster; the one of least inertia is kept
    mmlm_skip_last: bool = False  # quirk of the release's greedy loop: the last cluster of each modality is skipped
    # --- stage C: SCA ---
    alignment_start: AlignmentStart = "continue"  # continue: train the stage-B model; fresh: a new start network
    # mmlm: MMLM's matched labels; cmc_pooled: the pooled clusters of CMC's last epoch give both modalities' labels
    # directly, with no matching (a control for what MMLM adds beyond more training; needs cmc)
    alignment_labels: AlignmentLabels = "mmlm"
    epochs_c: int = 80  # stage-C epochs (paper 80, code 100)
    epoch_length_c: EpochLength = "iterations"  # iterations: iters_c steps; full_pass: one pass over the data
    iters_c: int = 200  # optimiser steps per stage-C epoch when epoch_length_c is "iterations"
    batch_p_c: int = 8  # pseudo-identities per stage-C batch (each with both modalities)
    batch_k_c: int = 4  # instances per identity and modality in a stage-C batch
    lr_head: float = 0.1  # SGD learning rate of the classifier
    neck_lr: NeckLearningRate = "backbone"  # which learning rate the BN neck trains at
    classifier_init: ClassifierInit = "uniform"  # uniform: torch's Linear default; normal: N(0, 0.001)
    lr_backbone: float = 0.01  # SGD learning rate of the backbone
    warmup_epochs: int = 10  # linear learning-rate warm-up
    milestones: tuple[int, ...] = (20, 40)  # x0.1 learning-rate steps
    plain_ce_epochs: int = 5  # first epochs train plain CE only (no weighting, no triplet, no SCA terms)
    warmup_sampler: WarmupSampler = "identity_balanced"  # how those epochs draw their batches
    intra: bool = True  # L_intra on
    inter: bool = True  # L_inter on
    confidence: bool | None = None  # GMM weighting; None = on whenever intra or inter is on
    lambda_intra: float = 0.5  # weight of L_intra
    lambda_inter: float = 0.05  # weight of L_inter
    intra_distance: IntraDistance = "l2sq"  # paper: squared L2; code: L1
    intra_confidence: bool = False  # weight each sample's L_intra term by its GMM confidence
    intra_reduction: IntraReduction = "batch_mean"  # batch_mean over all rows, or visible mean + infrared mean
    inter_form: InterForm = "half_symmetric"  # half_symmetric over pooled views; four_term: 2 views x 2 directions
    loss_feature: LossFeature = "bn_normalised"  # feature of triplet, L_intra, L_inter: BN neck (L2) or pooled
    sample_states: SampleStates = "clean_eval"  # what confidences and prototypes come from (see alignment)
    gmm_max_iter: int = 10  # EM iterations of the confidence GMM
    inter_start_epoch: int = 15  # paper starts L_inter at epoch 15; code at 0
    triplet_margin: float = 0.2  # batch-hard triplet margin (code)
    # --- references that use identity labels (oracle_labels only; methods never read it) ---
    correspondence_noise: float = 0.0  # fraction of identities whose visible->infrared mapping is deranged
    # --- evaluation ---
    eval_trials: int = 10  # SYSU gallery draws to average over
    eval_flip: bool = True  # test features averaged with the mirrored image's; False: one view per image
    # > 0: also evaluate on the test set every `eval_every` stage-C epochs and after the last, recorded as curves
    # that are reported and never used (the result is the last epoch's); 0: off
    eval_every: int = 0
    intermediate_eval: bool = False  # also evaluate after stage A and B, reporting mAP (tuning prunes on it)
    # --- numerics ---
    precision: Precision | None = None  # the network's forward: fp32 or bf16 autocast; None = bf16 on CUDA, else fp32
    deterministic: bool = False  # CUDA: deterministic algorithms (mmm.models.numerics.configure_device)

    def __post_init__(self) -> None:
        if not isinstance(self.pretrained, str) or not self.pretrained:
            raise ValueError(
                f"PipelineConfig.pretrained: expected 'imagenet', 'none' or a file path, got {self.pretrained!r}"
            )
        for name, valid in CHOICES.items():
            if getattr(self, name) not in valid:
                raise ValueError(
                    f"PipelineConfig.{name}: expected one of {', '.join(map(repr, valid))}, got {getattr(self, name)!r}"
                )
        if self.alignment_labels == "cmc_pooled" and not self.cmc:
            raise ValueError("PipelineConfig.alignment_labels: 'cmc_pooled' needs cmc on (CMC makes the pooled labels)")
        if self.precision is not None and self.precision not in PRECISIONS:
            raise ValueError(f"PipelineConfig.precision: expected one of {PRECISIONS} or None, got {self.precision!r}")
        for name in ("kmeans_iters", "kmeans_restarts"):
            if getattr(self, name) < 1:
                raise ValueError(f"PipelineConfig.{name}: expected >= 1, got {getattr(self, name)}")
        if self.eval_every < 0:
            raise ValueError(f"PipelineConfig.eval_every: expected >= 0 (0: off), got {self.eval_every}")
        if self.memories < 1:
            raise ValueError(f"PipelineConfig.memories: expected >= 1, got {self.memories}")
        if not 0.0 <= self.correspondence_noise <= 1.0:
            raise ValueError(
                f"PipelineConfig.correspondence_noise: expected a fraction in [0, 1], got {self.correspondence_noise}"
            )

    @property
    def resolved_eps(self) -> float:
        return self.eps if self.eps is not None else (0.6 if self.dataset == "sysu" else 0.3)

    @property
    def resolved_k1_cross(self) -> int:
        return self.k1_cross if self.k1_cross is not None else (40 if self.dataset == "sysu" else 38)

    @property
    def resolved_k2_cross(self) -> int:
        return self.k2_cross if self.k2_cross is not None else (32 if self.dataset == "sysu" else 18)

    @property
    def resolved_confidence(self) -> bool:
        return self.confidence if self.confidence is not None else (self.intra or self.inter)

    def with_overrides(self, **overrides: Any) -> "PipelineConfig":
        """A copy with fields replaced; an unknown field is an error naming the valid ones."""
        valid = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - valid)
        if unknown:
            raise ValueError(f"unknown PipelineConfig field(s) {unknown}; valid: {sorted(valid)}")
        return replace(self, **overrides)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
