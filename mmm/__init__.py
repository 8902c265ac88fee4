"""MMM: Multi-Memory Matching for unsupervised visible-infrared person re-identification (ECCV 2024).

The method lives here (data, models, features, clustering, memory, matching, alignment, pipeline, evaluation);
ground-truth diagnostics live in mmm.diagnostics and are called only by the harness. This package exports what a
user calls to run the method or one of its parts, and the method's named choices (mmm.choices); each subpackage
exports more. Exports are imported on first use (mmm.lazy), so `import mmm` alone loads no torch. The README
opens with a run of the method through this API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmm.lazy import lazy_exports

if TYPE_CHECKING:
    from mmm.alignment import SCAForm, SCAWeights, sca_losses
    from mmm.choices import (
        DATASETS,
        DIRECTIONS,
        DISTANCES,
        INTER_FORMS,
        INTRA_REDUCTIONS,
        METRICS,
        OBJECTIVE_PROTOCOLS,
        PRIMARY_PROTOCOLS,
        PROTOCOLS,
        RECIPES,
        SOLVERS,
        STAGES,
        VALIDATION_PROTOCOLS,
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
        Recipe,
        SampleStates,
        Solver,
        Stage,
    )
    from mmm.clustering import dbscan_labels, jaccard_distance
    from mmm.data import Modality, RegdbDataset, SysuDataset, ensure_synthetic_pair, read_regdb, read_sysu, smoke_spec
    from mmm.evaluation import RankResult, evaluate_regdb, evaluate_sysu
    from mmm.features import extract_features
    from mmm.matching import MatchResult, multi_memory_match
    from mmm.memory import ClusterMemory
    from mmm.models import TwoStreamNetwork, create_backbone
    from mmm.paths import default_cache_dir
    from mmm.pipeline import (
        Diagnose,
        Method,
        PipelineConfig,
        ProgressCallback,
        ProgressEvent,
        RunResult,
        StageStore,
        Task,
        profile_config,
        regdb_task,
        regdb_validation_task,
        run_pipeline,
        sysu_task,
        sysu_validation_task,
    )

__all__ = [
    # running the method
    "Method",
    "PipelineConfig",
    "RunResult",
    "Task",
    "profile_config",
    "regdb_task",
    "regdb_validation_task",
    "run_pipeline",
    "sysu_task",
    "sysu_validation_task",
    # what a caller plugs into a run
    "Diagnose",
    "ProgressCallback",
    "ProgressEvent",
    "StageStore",
    # data
    "Modality",
    "RegdbDataset",
    "SysuDataset",
    "default_cache_dir",
    "ensure_synthetic_pair",
    "read_regdb",
    "read_sysu",
    "smoke_spec",
    # the method's parts
    "ClusterMemory",
    "MatchResult",
    "RankResult",
    "SCAForm",
    "SCAWeights",
    "TwoStreamNetwork",
    "create_backbone",
    "dbscan_labels",
    "evaluate_regdb",
    "evaluate_sysu",
    "extract_features",
    "jaccard_distance",
    "multi_memory_match",
    "sca_losses",
    # the named choices of config fields, and their valid values
    "AlignmentStart",
    "ClassifierInit",
    "CmcSecondStep",
    "CostDirection",
    "DatasetName",
    "EpochLength",
    "InterForm",
    "IntraDistance",
    "IntraReduction",
    "LossFeature",
    "NeckLearningRate",
    "Recipe",
    "SampleStates",
    "Solver",
    "DATASETS",
    "DIRECTIONS",
    "DISTANCES",
    "INTER_FORMS",
    "INTRA_REDUCTIONS",
    "RECIPES",
    "SOLVERS",
    # the evaluation's metrics and protocols, and the stage names
    "METRICS",
    "OBJECTIVE_PROTOCOLS",
    "PRIMARY_PROTOCOLS",
    "PROTOCOLS",
    "STAGES",
    "VALIDATION_PROTOCOLS",
    "Stage",
]

# A name is looked up in these in order, importing each on the way. Lazy packages import nothing until a name is
# taken from them; alignment and matching come last because importing them binds the function named like its
# module (mmd, subcentres), which imports torch.
__getattr__, __dir__ = lazy_exports(
    __name__,
    __all__,
    (
        "mmm.choices",
        "mmm.paths",
        "mmm.pipeline",
        "mmm.data",
        "mmm.clustering",
        "mmm.evaluation",
        "mmm.features",
        "mmm.memory",
        "mmm.models",
        "mmm.matching",
        "mmm.alignment",
    ),
)
