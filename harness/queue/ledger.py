"""The Optuna studies behind one harness study: one per dataset and run key (profile and data, see
harness.run_key), all protocols' metrics of a run stored on its trial.

A read-only ledger (dry run, report) reads the stored trials without creating or writing anything; only a ledger
that runs cells creates studies. A ledger that keeps stale results (`keep_stale`, --keep-stale) counts a cell
finished only by other code as done; otherwise such a cell is stale and a run re-runs it.
"""

from __future__ import annotations

import time
from typing import Iterable

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial

from harness.cells import Cell
from harness.queue.claims import LeasePolicy, WorkerIdentity
from harness.queue.sampler import TrialSeededTPESampler
from harness.queue.status import CellStatus, cell_statuses
from harness.queue.storage import StorageSpec
from harness.run_key import RunKey
from harness.spec import StudySpec


class Ledger:
    def __init__(
        self,
        storage: StorageSpec,
        spec: StudySpec,
        key: RunKey,
        *,
        read_only: bool = False,
        seed: int = 0,
        keep_stale: bool = False,
        phase: str = "",
    ) -> None:
        self.storage_spec = storage
        self.spec = spec
        self.key = key
        self.read_only = read_only
        self.keep_stale = keep_stale
        self.seed = seed  # the cells' run seed; a tuning study's sampler draws from seeds derived from it
        self.phase = phase  # a later phase of the study (a tuning study's "final"): its own Optuna studies
        self._storage: BaseStorage | None = None
        self._opened = False
        self._studies: dict[str, optuna.Study] = {}

    @property
    def profile(self) -> str:
        return self.key.profile

    def name(self, dataset: str) -> str:
        name = self.key.study_name(self.spec.name, dataset)
        return f"{name}:{self.phase}" if self.phase else name

    def sibling(self, spec: StudySpec, phase: str) -> "Ledger":
        """The ledger of a later phase of this study (its own spec and Optuna studies) on the same storage, read-only
        when this one is, sharing the storage once opened."""
        other = Ledger(
            self.storage_spec,
            spec,
            self.key,
            read_only=self.read_only,
            seed=self.seed,
            keep_stale=self.keep_stale,
            phase=phase,
        )
        other._storage, other._opened = self._storage, self._opened
        return other

    def open(self) -> None:
        """Open the storage now, so that a storage problem shows before any work starts."""
        _ = self.storage

    @property
    def storage(self) -> BaseStorage | None:
        """The opened storage; None for a read-only ledger on a storage that holds nothing yet."""
        if not self._opened:
            self._storage = self.storage_spec.open(read_only=self.read_only)
            self._opened = True
        return self._storage

    def study(self, dataset: str) -> optuna.Study:
        """The Optuna study of `dataset`, created on first use (several workers may race to create it)."""
        if self.read_only:
            raise PermissionError(f"ledger of {self.spec.name} is read-only; it creates no study")
        if dataset not in self._studies:
            self._studies[dataset] = optuna.create_study(
                storage=self.storage,
                study_name=self.name(dataset),
                direction="maximize",
                sampler=self._sampler(),
                pruner=self._pruner(),
                load_if_exists=True,
            )
        return self._studies[dataset]

    def stored_study(self, dataset: str) -> optuna.Study | None:
        """The stored Optuna study of `dataset`, loaded without creating or writing anything; None if absent."""
        if dataset in self._studies:
            return self._studies[dataset]
        if self.storage is None or self.name(dataset) not in self.stored_study_names():
            return None
        self._studies[dataset] = optuna.load_study(
            study_name=self.name(dataset), storage=self.storage, sampler=self._sampler(), pruner=self._pruner()
        )
        return self._studies[dataset]

    def _sampler(self) -> optuna.samplers.BaseSampler:
        if self.spec.is_tuning:
            return TrialSeededTPESampler(self.seed)
        return optuna.samplers.RandomSampler()  # cells fix their config; nothing is sampled

    def _pruner(self) -> optuna.pruners.BasePruner:
        if self.spec.is_tuning:
            return optuna.pruners.MedianPruner(n_startup_trials=self.spec.prune_after_trials)
        return optuna.pruners.NopPruner()

    def stored_study_names(self) -> list[str]:
        if self.storage is None:
            return []
        return sorted(s.study_name for s in self.storage.get_all_studies())

    def trials(self, dataset: str) -> list[FrozenTrial]:
        """Every trial stored for `dataset`, without creating anything (empty when nothing is stored)."""
        study = self.stored_study(dataset)
        return [] if study is None else study.get_trials(deepcopy=False)

    def statuses(self, cells: Iterable[Cell], policy: LeasePolicy, me: WorkerIdentity) -> dict[str, CellStatus]:
        """The status of each cell, by cell id."""
        by_dataset: dict[str, list[str]] = {}
        for cell in cells:
            by_dataset.setdefault(cell.dataset, []).append(cell.id)
        now = time.time()
        statuses: dict[str, CellStatus] = {}
        for dataset, ids in by_dataset.items():
            statuses.update(cell_statuses(ids, self.trials(dataset), policy, me, now, self.keep_stale))
        return statuses
