"""The Optuna studies behind one harness study: one per dataset (for a given profile and data source), all
protocols' metrics of a run stored on its trial."""
from __future__ import annotations

import time
from typing import Iterable

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial

from harness.cells import Cell, optuna_study_name
from harness.claims import LeasePolicy, WorkerIdentity
from harness.spec import StudySpec
from harness.status import CellStatus, cell_statuses
from harness.storage import StorageSpec


class Ledger:
    def __init__(self, storage: StorageSpec, spec: StudySpec, profile: str, source: str) -> None:
        self.storage_spec = storage
        self.spec = spec
        self.profile = profile
        self.source = source
        self._storage: BaseStorage | None = None
        self._studies: dict[str, optuna.Study] = {}

    def name(self, dataset: str) -> str:
        return optuna_study_name(self.spec.name, self.profile, self.source, dataset)

    @property
    def storage(self) -> BaseStorage:
        if self._storage is None:
            self._storage = self.storage_spec.open()
        return self._storage

    def study(self, dataset: str) -> optuna.Study:
        """The Optuna study of `dataset`, created on first use (several workers may race to create it)."""
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

    def _sampler(self) -> optuna.samplers.BaseSampler:
        if self.spec.is_tuning:
            # Workers sample concurrently: constant_liar keeps them from proposing the same point.
            return optuna.samplers.TPESampler(constant_liar=True)
        return optuna.samplers.RandomSampler()  # cells fix their config; nothing is sampled

    def _pruner(self) -> optuna.pruners.BasePruner:
        if self.spec.is_tuning:
            return optuna.pruners.MedianPruner(n_startup_trials=self.spec.prune_after_trials)
        return optuna.pruners.NopPruner()

    def stored_study_names(self) -> list[str]:
        if not self.storage_spec.exists():
            return []
        return sorted(s.study_name for s in self.storage.get_all_studies())

    def trials(self, dataset: str) -> list[FrozenTrial]:
        """Every trial stored for `dataset`, without creating anything (empty when nothing is stored)."""
        if dataset in self._studies:
            return self._studies[dataset].get_trials(deepcopy=False)
        if self.name(dataset) not in self.stored_study_names():
            return []
        return self.study(dataset).get_trials(deepcopy=False)

    def statuses(self, cells: Iterable[Cell], policy: LeasePolicy, me: WorkerIdentity) -> dict[str, CellStatus]:
        """The status of each cell, by cell id."""
        by_dataset: dict[str, list[str]] = {}
        for cell in cells:
            by_dataset.setdefault(cell.dataset, []).append(cell.id)
        now = time.time()
        statuses: dict[str, CellStatus] = {}
        for dataset, ids in by_dataset.items():
            statuses.update(cell_statuses(ids, self.trials(dataset), policy, me, now))
        return statuses
