"""The named choices of the method, each defined once: the Literal type a config field, a function argument and a
study use, and its tuple of valid values. No torch here, so the command line can check names without loading it."""
from __future__ import annotations

from typing import Literal, get_args

DatasetName = Literal["sysu", "regdb"]
Recipe = Literal["paper", "release"]
Solver = Literal["hungarian", "greedy"]  # MMLM's cluster assignment
CostDirection = Literal["visible", "infrared"]  # which side's memories MMLM's Chamfer cost sums over
IntraDistance = Literal["l2sq", "l1"]  # L_intra's distance to the prototype
IntraReduction = Literal["batch_mean", "modality_sum"]
InterForm = Literal["half_symmetric", "four_term"]
CmcSecondStep = Literal["none", "hybrid_batch"]
AlignmentStart = Literal["continue", "fresh"]
EpochLength = Literal["iterations", "full_pass"]
LossFeature = Literal["bn_normalised", "pooled"]
SampleStates = Literal["clean_eval", "augmented_train"]
NeckLearningRate = Literal["backbone", "head"]
ClassifierInit = Literal["uniform", "normal"]

DATASETS: tuple[str, ...] = get_args(DatasetName)
RECIPES: tuple[str, ...] = get_args(Recipe)
SOLVERS: tuple[str, ...] = get_args(Solver)
DIRECTIONS: tuple[str, ...] = get_args(CostDirection)
DISTANCES: tuple[str, ...] = get_args(IntraDistance)
INTRA_REDUCTIONS: tuple[str, ...] = get_args(IntraReduction)
INTER_FORMS: tuple[str, ...] = get_args(InterForm)
