"""The timed steps, as module-level functions of plain arguments.

Module-level so that the peak-memory child process (memory.py) can be handed the very function a benchmark
times. Tensor arguments go through torch.as_tensor, which is free for a tensor already on the device (the
benchmarks move inputs there before timing) and converts the numpy arrays the child loads from disk.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import sparse

from mmm.clustering.dbscan import dbscan_labels
from mmm.clustering.jaccard import jaccard_distance
from mmm.clustering.knn import exact_knn
from mmm.matching.assignment import Solver, match_clusters
from mmm.matching.cost import chamfer_cost
from mmm.matching.mmlm import MatchResult, multi_memory_match
from mmm.matching.subcentres import subcentres
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.pseudo_labels import cluster_features
from tests.bench.devices import synchronize

MIN_SAMPLES = PipelineConfig().min_samples  # DBSCAN min_samples, the paper's value
# Lloyd iterations of the sub-centre k-means: what the pipeline runs at paper settings (the library default
# of subcentres() is lower).
KMEANS_ITERS = PipelineConfig().kmeans_iters


def knn_floor(features: np.ndarray, k: int, device: str) -> tuple[np.ndarray, np.ndarray]:
    return exact_knn(features, k, device=torch.device(device))


def jaccard(features: np.ndarray, k1: int, k2: int, modality: np.ndarray | None, device: str) -> sparse.csr_matrix:
    return jaccard_distance(features, k1=k1, k2=k2, modality=modality, device=torch.device(device))


def dbscan(distance: sparse.csr_matrix, eps: float) -> np.ndarray:
    return dbscan_labels(distance, eps=eps, min_samples=MIN_SAMPLES)


def pseudo_labels(
    features: np.ndarray, k1: int, k2: int, modality: np.ndarray | None, eps: float, device: str
) -> np.ndarray:
    """The whole pseudo-labelling step of one clustering, Jaccard distance then DBSCAN, through the
    pipeline's own entry point, so the benchmark follows whatever settings the pipeline passes."""
    return cluster_features(
        torch.from_numpy(features), k1, k2, eps, MIN_SAMPLES, modality=modality, device=torch.device(device)
    )


def both_subcentres(
    features_v: torch.Tensor | np.ndarray,
    labels_v: torch.Tensor | np.ndarray,
    features_r: torch.Tensor | np.ndarray,
    labels_r: torch.Tensor | np.ndarray,
    n: int,
    device: str,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The n k-means sub-centres of every cluster of both modalities, as MMLM computes them."""
    with torch.no_grad():
        centres = tuple(
            subcentres(
                torch.as_tensor(features, device=device),
                torch.as_tensor(labels, device=device),
                n,
                iters=KMEANS_ITERS,
                seed=0,
            )
            for features, labels in ((features_v, labels_v), (features_r, labels_r))
        )
    synchronize(device)
    return centres


def chamfer(centres_v: torch.Tensor | np.ndarray, centres_r: torch.Tensor | np.ndarray, device: str) -> torch.Tensor:
    with torch.no_grad():
        cost = chamfer_cost(torch.as_tensor(centres_v, device=device), torch.as_tensor(centres_r, device=device))
    synchronize(device)
    return cost


def match(cost: np.ndarray, solver: Solver) -> np.ndarray:
    return match_clusters(cost, solver=solver)


def mmlm(
    features_v: torch.Tensor | np.ndarray,
    labels_v: np.ndarray,
    features_r: torch.Tensor | np.ndarray,
    labels_r: np.ndarray,
    n: int,
    device: str,
) -> MatchResult:
    """The whole MMLM step (paper settings: Hungarian, visible-side Chamfer sum)."""
    result = multi_memory_match(
        torch.as_tensor(features_v, device=device),
        labels_v,
        torch.as_tensor(features_r, device=device),
        labels_r,
        n=n,
        solver="hungarian",
        direction="visible",
        seed=0,
        iters=KMEANS_ITERS,
    )
    synchronize(device)
    return result
