"""Seeded synthetic features for the benchmarks: identities seen from a few views in two modalities.

A row is the L2-normalised sum of
- its identity's centre, which shares `group_share` of its energy with the other identities of its group
  (GROUP_SIZE identities in shared clothing: the hard negatives that put wrong neighbours in kNN lists);
- an offset for its (identity, view) (front/back/side look different) and one for its (identity, modality);
- isotropic noise of norm about `noise`.
Everything is drawn in float32 straight from numpy's generator, so the largest set (34,167 x 2048) takes a
couple of seconds; the conftest caches it for the session.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tests.bench.cases import FEATURE_DIM, DatasetSpec, MatchingCase

GROUP_SIZE = 4
VIEWS = 4
VIEW_SCALE = 0.6
MODALITY_SCALE = 0.7
VISIBLE, INFRARED = 0, 1


@dataclass(frozen=True)
class SyntheticFeatures:
    """Rows of both modalities, visible rows first, with the ground truth that generated them."""

    features: np.ndarray  # [N, D] float32, unit rows, C-contiguous
    identity: np.ndarray  # [N] int64
    view: np.ndarray  # [N] int64
    modality: np.ndarray  # [N] int64, 0 visible / 1 infrared
    n_visible: int

    def rows(self, modalities: tuple[str, ...]) -> slice:
        """The contiguous rows of the named modalities (both: all rows), so subsets are views, not copies."""
        start = 0 if "visible" in modalities else self.n_visible
        stop = self.n_visible if "infrared" not in modalities else len(self.identity)
        return slice(start, stop)


@dataclass(frozen=True)
class MatchingProblem:
    """MMLM inputs with contiguous cluster labels (-1 outliers) and the planted answer."""

    features_v: np.ndarray
    labels_v: np.ndarray
    features_r: np.ndarray
    labels_r: np.ndarray
    planted: np.ndarray  # [Cv] the infrared cluster each visible cluster was generated from


def _unit(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    vectors = rng.standard_normal(shape, dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors


def _identity_sizes(rng: np.random.Generator, n: int, identities: int, equal: bool) -> np.ndarray:
    """Images per identity: equal (RegDB), or multinomial around the mean with at least one each (SYSU)."""
    if equal:
        sizes = np.full(identities, n // identities)
        sizes[: n - sizes.sum()] += 1
        return sizes
    return rng.multinomial(n - identities, np.full(identities, 1.0 / identities)) + 1


def synthetic_features(spec: DatasetSpec, dim: int = FEATURE_DIM) -> SyntheticFeatures:
    """The seeded feature set of `spec`."""
    rng = np.random.default_rng(spec.seed)
    groups = _unit(rng, (-(-spec.identities // GROUP_SIZE), dim))
    centres = np.sqrt(1.0 - spec.group_share) * _unit(rng, (spec.identities, dim))
    centres += np.sqrt(spec.group_share) * groups[np.arange(spec.identities) // GROUP_SIZE]
    view_offsets = VIEW_SCALE * _unit(rng, (spec.identities, VIEWS, dim))
    modality_offsets = MODALITY_SCALE * _unit(rng, (spec.identities, 2, dim))

    features = np.empty((spec.n, dim), dtype=np.float32)
    identity = np.empty(spec.n, dtype=np.int64)
    view = rng.integers(0, VIEWS, spec.n)
    modality = np.repeat(np.array([VISIBLE, INFRARED]), [spec.n_visible, spec.n_infrared])
    start = 0
    for code, count in ((VISIBLE, spec.n_visible), (INFRARED, spec.n_infrared)):
        rows = slice(start, start + count)
        sizes = _identity_sizes(rng, count, spec.identities, spec.equal_sizes)
        identity[rows] = np.repeat(np.arange(spec.identities), sizes)
        # Filled in place, one term at a time, so the largest set never needs a second N x D temporary.
        block = features[rows]
        block[:] = rng.standard_normal((count, dim), dtype=np.float32)
        block *= spec.noise / np.sqrt(dim)
        block += centres[identity[rows]]
        block += view_offsets[identity[rows], view[rows]]
        block += modality_offsets[identity[rows], code]
        start += count
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    return SyntheticFeatures(features, identity, view, modality, spec.n_visible)


def _outliers(rng: np.random.Generator, labels: np.ndarray, share: float) -> np.ndarray:
    """A random share of rows to label -1, sparing each cluster's first row so that no cluster empties."""
    chosen = rng.random(labels.size) < share
    chosen[np.unique(labels, return_index=True)[1]] = False
    return chosen


def matching_problem(case: MatchingCase) -> MatchingProblem:
    """Infrared clusters are the identities; the visible side splits some identities in two by view (views
    0..VIEWS/2-1 keep the identity's label, the rest take a new one), so several visible clusters share one
    infrared cluster, as in the paper's rectangular matchings. A share of rows of each side is -1. Labels
    are contiguous (every cluster keeps a member), as MMLM requires."""
    spec = case.dataset
    if spec.identities != case.clusters_infrared or case.clusters_visible < case.clusters_infrared:
        raise ValueError(f"{case.name}: needs identities == infrared clusters <= visible clusters")
    data = synthetic_features(spec)
    rng = np.random.default_rng(spec.seed + 1)
    visible = slice(0, spec.n_visible)
    identity_v = data.identity[visible]
    second_view = data.view[visible] >= VIEWS // 2
    halves = [np.bincount(identity_v[mask], minlength=spec.identities) for mask in (~second_view, second_view)]
    splittable = np.flatnonzero((halves[0] > 0) & (halves[1] > 0))
    wanted = case.clusters_visible - case.clusters_infrared
    if splittable.size < wanted:
        raise ValueError(f"{case.name}: only {splittable.size} identities can split, {wanted} needed")
    split = rng.permutation(splittable)[:wanted]
    second_half = np.full(spec.identities, -1)
    second_half[split] = spec.identities + np.arange(split.size)

    labels_v = identity_v.copy()
    moved = (second_half[labels_v] >= 0) & second_view
    labels_v[moved] = second_half[labels_v[moved]]
    labels_r = data.identity[spec.n_visible :].copy()
    for labels in (labels_v, labels_r):
        labels[_outliers(rng, labels, case.outlier_share)] = -1

    return MatchingProblem(
        features_v=data.features[visible],
        labels_v=labels_v,
        features_r=data.features[spec.n_visible :],
        labels_r=labels_r,
        planted=np.concatenate([np.arange(spec.identities), split]),
    )
