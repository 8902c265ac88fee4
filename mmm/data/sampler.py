"""Identity-balanced batch samplers over pseudo-labels: P identities × K instances per modality.

Both samplers see only pseudo-labels (cluster ids from clustering or matching, -1 for DBSCAN outliers, which
are never drawn); they never receive ground truth. A batch is an `IndexBatch` of two int64 arrays of P·K
positions into the visible and the infrared label arrays, identity-major (K positions of the first identity,
then K of the second, ...). An identity with fewer than K members is drawn with replacement.

- `ModalityBatchSampler` (stages A and B): visible and infrared labels are separate label spaces; P identities
  are drawn independently per modality.
- `IdentityBalancedSampler` (stage C): one shared label space; P identities present in both modalities, each
  with K visible and K infrared positions, so position i of both arrays belongs to the same identity.
- `AllImagesSampler` (stage C's plain-CE warm-up, as the release's AllSampler): no identities at all; every
  labelled image of each modality in its own shuffled order, P·K positions per modality per batch.

Given each row's camera, `ModalityBatchSampler` can draw camera-aware instances (the authors' release,
Baseline.py's RandomMultipleGallerySampler): one anchor member of the identity, then K-1 members from cameras other
than the anchor's, and only when the identity was seen by the anchor's camera alone, K-1 other members of it.

A sampler yields a fixed number of batches per pass and is deterministic given its seed: iterating it again
gives the same batches. Build one per epoch with seed=(run_seed, epoch) for batches that change every epoch.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import numpy as np

logger = logging.getLogger(__name__)

OUTLIER = -1


class IndexBatch(NamedTuple):
    """One batch: positions into the visible and the infrared label arrays (int64, P·K each)."""

    visible: np.ndarray
    infrared: np.ndarray


class _LabelGroups:
    """Positions of each non-outlier label of one modality (and their cameras, for camera-aware draws)."""

    def __init__(self, labels: np.ndarray, name: str, cameras: np.ndarray | None = None) -> None:
        labels = np.asarray(labels)
        if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"{name} labels must be a 1-D integer array, got {labels.dtype}{labels.shape}")
        if cameras is not None and np.shape(cameras) != labels.shape:
            raise ValueError(f"{name} cameras must have one entry per label {labels.shape}, got {np.shape(cameras)}")
        self.cameras = None if cameras is None else np.asarray(cameras)
        if labels.size and labels.min() < OUTLIER:
            raise ValueError(f"{name} labels must be >= {OUTLIER} ({OUTLIER} marks outliers), got {labels.min()}")
        kept = np.flatnonzero(labels != OUTLIER)
        order = kept[np.argsort(labels[kept], kind="stable")]
        self.ids, starts = np.unique(labels[order], return_index=True)
        self.members = dict(zip(self.ids.tolist(), np.split(order.astype(np.int64), starts[1:])))

    def draw(self, rng: np.random.Generator, ids: np.ndarray, k: int) -> np.ndarray:
        """K positions of each identity in `ids`, concatenated in that order."""
        picks = []
        for identity in ids.tolist():
            members = self.members[identity]
            if self.cameras is None:
                picks.append(rng.choice(members, size=k, replace=len(members) < k))
            else:
                picks.append(_camera_aware(rng, members, self.cameras[members], k))
        return np.concatenate(picks)


def _camera_aware(rng: np.random.Generator, members: np.ndarray, cameras: np.ndarray, k: int) -> np.ndarray:
    """An anchor, then k-1 members from cameras other than the anchor's (when none exist, from the other members;
    a single-member identity repeats its anchor)."""
    position = int(rng.integers(len(members)))
    anchor = members[position]
    others = members[cameras != cameras[position]]
    if len(others) == 0:
        others = members[members != anchor]
    if len(others) == 0:
        others = members
    rest = rng.choice(others, size=k - 1, replace=len(others) < k - 1)
    return np.r_[anchor, rest].astype(np.int64)


class _BatchSampler(ABC):
    """What both samplers share: arguments, the seeded pass, and the per-batch identity count."""

    def __init__(
        self,
        labels_visible: np.ndarray,
        labels_infrared: np.ndarray,
        num_identities: int,
        num_instances: int,
        iterations: int,
        seed: int | Sequence[int],
        cameras: tuple[np.ndarray, np.ndarray] | None = None,
    ) -> None:
        counts = {"num_identities": num_identities, "num_instances": num_instances, "iterations": iterations}
        for name, value in counts.items():
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        self.num_instances = num_instances
        self.iterations = iterations
        self._requested = num_identities
        self._seed = seed
        cameras_v, cameras_r = cameras if cameras is not None else (None, None)
        self._visible = _LabelGroups(labels_visible, "visible", cameras_v)
        self._infrared = _LabelGroups(labels_infrared, "infrared", cameras_r)
        self._setup()

    @abstractmethod
    def _setup(self) -> None:
        """Checks and per-batch counts of the concrete sampler, once the label groups exist."""

    def __len__(self) -> int:
        return self.iterations

    def __iter__(self) -> Iterator[IndexBatch]:
        rng = np.random.default_rng(self._seed)
        for _ in range(self.iterations):
            yield self._batch(rng)

    @abstractmethod
    def _batch(self, rng: np.random.Generator) -> IndexBatch:
        """One batch, drawn from the pass's generator."""

    def _identities_per_batch(self, available: int, what: str) -> int:
        """P, or every available identity (with a warning) when fewer than P exist."""
        if available < self._requested:
            logger.warning(
                "only %d %s for batches of %d identities; each batch uses all %d",
                available,
                what,
                self._requested,
                available,
            )
        return min(available, self._requested)


class ModalityBatchSampler(_BatchSampler):
    """Stages A and B: P identities × K instances drawn independently from each modality's own label space;
    camera-aware when given the rows' cameras (visible, infrared)."""

    def _setup(self) -> None:
        for groups, name in ((self._visible, "visible"), (self._infrared, "infrared")):
            if len(groups.ids) == 0:
                raise ValueError(f"no {name} identity to sample: every {name} label is an outlier ({OUTLIER})")
        self.identities_visible = self._identities_per_batch(len(self._visible.ids), "visible identities")
        self.identities_infrared = self._identities_per_batch(len(self._infrared.ids), "infrared identities")

    def _batch(self, rng: np.random.Generator) -> IndexBatch:
        visible_ids = rng.choice(self._visible.ids, size=self.identities_visible, replace=False)
        infrared_ids = rng.choice(self._infrared.ids, size=self.identities_infrared, replace=False)
        return IndexBatch(
            self._visible.draw(rng, visible_ids, self.num_instances),
            self._infrared.draw(rng, infrared_ids, self.num_instances),
        )


class IdentityBalancedSampler(_BatchSampler):
    """Stage C: P identities of a label space shared by both modalities, each with K visible and K infrared
    positions. Only identities with members in both modalities are drawn."""

    def _setup(self) -> None:
        self.shared_ids = np.intersect1d(self._visible.ids, self._infrared.ids)
        if len(self.shared_ids) == 0:
            raise ValueError(
                f"no identity has both visible and infrared members ({len(self._visible.ids)} visible and "
                f"{len(self._infrared.ids)} infrared identities, none in common)"
            )
        self.identities_per_batch = self._identities_per_batch(
            len(self.shared_ids), "identities present in both modalities"
        )

    def _batch(self, rng: np.random.Generator) -> IndexBatch:
        ids = rng.choice(self.shared_ids, size=self.identities_per_batch, replace=False)
        return IndexBatch(
            self._visible.draw(rng, ids, self.num_instances),
            self._infrared.draw(rng, ids, self.num_instances),
        )


class AllImagesSampler:
    """Stage C's warm-up as the authors' release draws it (main.py, AllSampler): each modality's labelled
    positions (outliers left out) in a shuffled order of their own, cut into batches of `batch_size` positions
    per modality; a modality that runs out starts a new shuffled pass. Positions i of the two arrays are unrelated
    images. Yields `iterations` IndexBatches, the same ones on every pass over the sampler."""

    def __init__(
        self,
        labels_visible: np.ndarray,
        labels_infrared: np.ndarray,
        batch_size: int,
        iterations: int,
        seed: int | Sequence[int],
    ) -> None:
        for name, value in {"batch_size": batch_size, "iterations": iterations}.items():
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        self.batch_size = batch_size
        self.iterations = iterations
        self._seed = seed
        self._rows = []
        for labels, name in ((labels_visible, "visible"), (labels_infrared, "infrared")):
            groups = _LabelGroups(labels, name)
            if not groups.members:
                raise ValueError(f"no {name} image to sample: every {name} label is an outlier ({OUTLIER})")
            self._rows.append(np.sort(np.concatenate(list(groups.members.values()))))

    def __len__(self) -> int:
        return self.iterations

    def __iter__(self) -> Iterator[IndexBatch]:
        rng = np.random.default_rng(self._seed)
        needed = self.iterations * self.batch_size
        orders = []
        for rows in self._rows:
            passes = -(-needed // len(rows))
            orders.append(np.concatenate([rng.permutation(rows) for _ in range(passes)])[:needed])
        for step in range(self.iterations):
            cut = slice(step * self.batch_size, (step + 1) * self.batch_size)
            yield IndexBatch(orders[0][cut], orders[1][cut])
