"""The problems the benchmarks time, sized like the RegDB and SYSU-MM01 training sets (docs/design.md §4).

Cases are plain named records; the conftest parametrises tests by case name (so the benchmark JSON holds a
readable name, not a repr) and selects them by scale: `regdb` runs by default, `sysu` on request.
"""

from __future__ import annotations

from dataclasses import dataclass

SCALES: tuple[str, ...] = ("regdb", "sysu")
# Timed rounds per benchmark when --bench-rounds is not given: SYSU-scale steps take a minute each on 2 cores.
DEFAULT_ROUNDS: dict[str, int] = {"regdb": 5, "sysu": 3}
# Untimed first runs: they pay for thread-pool start-up and first-touch page faults, which repeat-runs do not.
WARMUP_ROUNDS: dict[str, int] = {"regdb": 1, "sysu": 0}
FEATURE_DIM = 2048


@dataclass(frozen=True)
class DatasetSpec:
    """A synthetic stand-in for one training set's features: identities seen in both modalities."""

    name: str
    n_visible: int
    n_infrared: int
    identities: int
    equal_sizes: bool  # RegDB: every identity has the same number of images per modality
    # Difficulty: the share of an identity's centre it has in common with its hard negatives (shared
    # clothing), and the noise scale relative to that centre. Chosen so that the paper's eps recovers the
    # identities (pseudo-label ARI ~0.9+) while kNN lists still hold hard negatives, as real features do.
    group_share: float
    noise: float
    seed: int = 0

    @property
    def n(self) -> int:
        return self.n_visible + self.n_infrared


@dataclass(frozen=True)
class ClusteringCase:
    """One pseudo-labelling problem: some modalities of a dataset and the paper's Jaccard/DBSCAN settings."""

    name: str
    scale: str
    dataset: DatasetSpec
    modalities: tuple[str, ...]  # "visible", "infrared" or both (the pooled CMC clustering)
    k1: int
    k2: int
    eps: float
    min_ari: float  # pseudo-labels must agree with the generating identities at least this much

    @property
    def balanced(self) -> bool:
        """The pooled clustering uses the modality-balanced query expansion (CMC)."""
        return len(self.modalities) == 2

    @property
    def n(self) -> int:
        sizes = {"visible": self.dataset.n_visible, "infrared": self.dataset.n_infrared}
        return sum(sizes[modality] for modality in self.modalities)

    @property
    def floor_k(self) -> int:
        """Neighbours the floor search returns: k1 + 1, the classic code's list (k1 neighbours and the sample)."""
        return self.k1 + 1


@dataclass(frozen=True)
class MatchingCase:
    """One MMLM problem: labelled visible and infrared features with a planted cluster correspondence."""

    name: str
    scale: str
    dataset: DatasetSpec  # identities = infrared clusters; some identities split into two visible clusters
    clusters_visible: int
    clusters_infrared: int
    n_memories: int = 4
    outlier_share: float = 0.05  # rows labelled -1, as DBSCAN leaves some
    min_accuracy: float = 0.95  # share of visible clusters matched to their planted infrared cluster

    @property
    def n(self) -> int:
        return self.dataset.n


@dataclass(frozen=True)
class TrainingCase:
    """One training step of the pipeline: a backbone preset, its input size, a stage's step and its batch of P
    identities x K instances per modality."""

    name: str
    backbone: str
    height: int
    width: int
    identities: int
    instances: int
    stage: str  # "ab": a stage A/B step (memories, CMC link, their updates); "c": a stage-C step (every SCA term)
    scale: str  # its CPU variant runs at this scale and every variant takes its rounds; CUDA variants always run
    # The step starts from stem outputs computed before training, as the quick profile's frozen stems allow
    # (mmm.pipeline.stem_encoding); otherwise it starts from pixels.
    stored_stems: bool = False
    # Why its CPU variant never runs (too much memory for a CPU machine), or None when it does.
    no_cpu: str | None = None

    @property
    def per_modality(self) -> int:
        return self.identities * self.instances

    @property
    def images(self) -> int:
        """Images through the network per step: every visible image in two views, every infrared image once."""
        return 3 * self.per_modality


CPU_TOO_BIG = "a paper-scale A/B step saves 20-60 GB for backward: CUDA variants only"

REGDB = DatasetSpec("regdb", 2060, 2060, 206, equal_sizes=True, group_share=0.5, noise=2.0)
SYSU = DatasetSpec("sysu", 22258, 11909, 395, equal_sizes=False, group_share=0.8, noise=3.0)

CLUSTERING_CASES: dict[str, ClusteringCase] = {
    case.name: case
    for case in (
        ClusteringCase("regdb-visible", "regdb", REGDB, ("visible",), 30, 6, 0.3, min_ari=0.9),
        ClusteringCase("regdb-pooled", "regdb", REGDB, ("visible", "infrared"), 38, 18, 0.3, min_ari=0.8),
        ClusteringCase("sysu-infrared", "sysu", SYSU, ("infrared",), 30, 6, 0.6, min_ari=0.9),
        ClusteringCase("sysu-visible", "sysu", SYSU, ("visible",), 30, 6, 0.6, min_ari=0.9),
        ClusteringCase("sysu-pooled", "sysu", SYSU, ("visible", "infrared"), 40, 32, 0.6, min_ari=0.8),
    )
}

MATCHING_CASES: dict[str, MatchingCase] = {
    case.name: case
    for case in (
        MatchingCase(
            "regdb", "regdb", DatasetSpec("regdb-matching", 2060, 2060, 206, True, 0.5, 2.0, seed=1), 260, 206
        ),
        MatchingCase(
            "sysu", "sysu", DatasetSpec("sysu-matching", 22258, 11909, 420, False, 0.7, 2.5, seed=1), 800, 420
        ),
    )
}

TRAINING_CASES: dict[str, TrainingCase] = {
    case.name: case
    for case in (
        # The quick profile's stage A/B step: 8 pseudo-identities x 8 instances per modality through the trainable
        # part of the ImageNet MobileNetV2, from stored outputs of its frozen stems.
        TrainingCase("mobilenet_v2-128x64-ab", "mobilenet_v2", 128, 64, 8, 8, "ab", "regdb", stored_stems=True),
        # The same batch through the whole MobileNetV2 fine-tuned from pixels: what storing the stems saves.
        TrainingCase("mobilenet_v2_full-128x64-ab", "mobilenet_v2_full", 128, 64, 8, 8, "ab", "regdb"),
        # The paper's stage-C batch: 8 identities x 4 instances per modality at 288x144.
        TrainingCase("agw_resnet50-288x144-c", "agw_resnet50", 288, 144, 8, 4, "c", "sysu"),
        # The stage A/B batches of the two recipes at 288x144: 12 x 16 (paper) and 8 x 16 (release), 576 and 384
        # images per step. Their fp32 steps save 61 and 41 GB for backward (tests/bench/saved_activations.py).
        TrainingCase(
            "agw_resnet50-288x144-ab-12x16", "agw_resnet50", 288, 144, 12, 16, "ab", "sysu", no_cpu=CPU_TOO_BIG
        ),
        TrainingCase("agw_resnet50-288x144-ab-8x16", "agw_resnet50", 288, 144, 8, 16, "ab", "sysu", no_cpu=CPU_TOO_BIG),
    )
}
# The batch whose host-side preparation (gathering rows, the augmentation's draws, the copy) is timed.
PAPER_BATCH = TrainingCase("paper-batch-288x144", "agw_resnet50", 288, 144, 12, 16, "ab", "regdb")


def selected_scales(option: str) -> tuple[str, ...]:
    """Scales a --bench-scale value runs: one scale, or "all"."""
    return SCALES if option == "all" else (option,)
