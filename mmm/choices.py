"""The names the method, the harness and the reports share, each defined once: the Literal type of every named
choice with its tuple of valid values, the evaluation's metrics and protocols, and the stage names. No torch here,
so the command line and the reports can check names without loading it."""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType
from typing import Literal, Mapping, get_args

DatasetName = Literal["sysu", "regdb"]
Recipe = Literal["paper", "release"]
Solver = Literal["hungarian", "greedy"]  # MMLM's cluster assignment
CostDirection = Literal["visible", "infrared"]  # which side's memories MMLM's Chamfer cost sums over
IntraDistance = Literal["l2sq", "l1"]  # L_intra's distance to the prototype
IntraReduction = Literal["batch_mean", "modality_sum"]
InterForm = Literal["half_symmetric", "four_term"]
CmcSecondStep = Literal["none", "hybrid_batch"]
AlignmentStart = Literal["continue", "fresh"]
# Where stage C's labels come from: MMLM's matching, or (a control) CMC's own pooled clusters with no matching.
AlignmentLabels = Literal["mmlm", "cmc_pooled"]
# How stage C's plain-CE warm-up epochs draw batches: P×K identities present in both modalities, or every labelled
# image of each modality in its own shuffled order (the release's AllSampler).
WarmupSampler = Literal["identity_balanced", "all_images"]
EpochLength = Literal["iterations", "full_pass"]
LossFeature = Literal["bn_normalised", "pooled"]
SampleStates = Literal["clean_eval", "augmented_train"]
NeckLearningRate = Literal["backbone", "head"]
ClassifierInit = Literal["uniform", "normal"]
Precision = Literal["fp32", "bf16"]  # the network's forward: float32, or bfloat16 autocast

DATASETS: tuple[DatasetName, ...] = get_args(DatasetName)
RECIPES: tuple[Recipe, ...] = get_args(Recipe)
SOLVERS: tuple[Solver, ...] = get_args(Solver)
DIRECTIONS: tuple[CostDirection, ...] = get_args(CostDirection)
DISTANCES: tuple[IntraDistance, ...] = get_args(IntraDistance)
INTRA_REDUCTIONS: tuple[IntraReduction, ...] = get_args(IntraReduction)
INTER_FORMS: tuple[InterForm, ...] = get_args(InterForm)
PRECISIONS: tuple[Precision, ...] = get_args(Precision)

# --- evaluation ---
METRICS: tuple[str, ...] = ("R1", "R10", "R20", "mAP", "mINP")
# The feature space a run ends with (mmm.evaluation.feature_space): mean cosine distances of a fixed test subset's
# pairs, same identity within a modality, same identity across modalities, different identities across modalities,
# the modality gap, cross- over intra-modality positive mean, and the cross-modality separation, the chance that a
# different-identity cross-modality pair lies farther apart than a same-identity one (an AUC).
INTRA_POSITIVE = "intra_positive"
CROSS_POSITIVE = "cross_positive"
CROSS_NEGATIVE = "cross_negative"
MODALITY_GAP = "modality_gap"
CROSS_SEPARATION = "cross_separation"
DISTANCE_GROUPS: tuple[str, ...] = (INTRA_POSITIVE, CROSS_POSITIVE, CROSS_NEGATIVE)
GAP_QUANTITIES: tuple[str, ...] = (*DISTANCE_GROUPS, MODALITY_GAP, CROSS_SEPARATION)
SysuMode = Literal["all", "indoor"]
RegdbDirection = Literal["v2i", "i2v"]
SYSU_MODES: tuple[SysuMode, ...] = get_args(SysuMode)
REGDB_DIRECTIONS: tuple[RegdbDirection, ...] = get_args(RegdbDirection)
PROTOCOLS: Mapping[str, tuple[str, ...]] = MappingProxyType({"sysu": SYSU_MODES, "regdb": REGDB_DIRECTIONS})
# The protocol a run is summarised by (progress, paired tests): the paper's headline settings.
PRIMARY_PROTOCOLS: Mapping[str, str] = MappingProxyType({"sysu": "all", "regdb": "v2i"})
PRIMARY_METRIC = "mAP"  # what a tuning study maximises
# A tuning search scores identities held out of the training split (mmm.data.validation), never the test set:
# SYSU-MM01 in the all-search shape, RegDB in both directions. The names say so wherever they appear.
VALIDATION_PREFIX = "val-"
VALIDATION_PROTOCOLS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"sysu": (f"{VALIDATION_PREFIX}all",), "regdb": tuple(f"{VALIDATION_PREFIX}{d}" for d in REGDB_DIRECTIONS)}
)
# What a search optimises and prunes on: the validation counterpart of the primary protocol.
OBJECTIVE_PROTOCOLS: Mapping[str, str] = MappingProxyType(
    {dataset: f"{VALIDATION_PREFIX}{protocol}" for dataset, protocol in PRIMARY_PROTOCOLS.items()}
)
# The key of the test metrics recorded during stage C (PipelineConfig.eval_every): epochs.csv names them
# "test.<protocol>.<metric>". Reported as curves, never used to select anything.
TEST_CURVE = "test"


class Stage(StrEnum):
    """Stage names in records, progress, reports and the stage cache, in pipeline order."""

    IMAGES = "images"  # decoding the training images
    STEMS = "stems"  # the start network, its frozen stems' statistics and stored outputs
    DCL = "dcl"  # intra-modality cluster contrast, one memory per modality (the paper's warm-up)
    CMC = "cmc"  # cross-modality clustering with the hybrid memory
    CENTROID_HUNGARIAN = "centroid_hungarian"  # the centroid-Hungarian baseline's matching stage (PGM-like, not PGM)
    MMLM = "mmlm"  # multi-memory learning and matching
    IDENTITY_LABELS = "identity_labels"  # the oracle_labels reference: the true identities in MMLM's place
    MAJORITY_MATCH = "majority_match"  # the oracle_matching reference: MMM's clusters matched by majority identity
    SCA = "sca"  # soft cluster-level alignment on the matched labels
    EVAL = "eval"  # test-set evaluation


STAGES: tuple[str, ...] = tuple(stage.value for stage in Stage)

# The methods that read the training split's identities on purpose (through mmm.diagnostics.identities): references
# that split a method's shortfall, never methods. Reports label them "uses identity labels".
REFERENCE_METHODS: tuple[str, ...] = ("oracle_labels", "oracle_matching")
