"""Cells: the unit of work of a study — one variant on one dataset with one seed (and one RegDB split), or, in a
tuning study, one search trial slot. A cell is what is claimed, run, stored and resumed.

A cell is scored on the test set unless it is a search trial: those train without the validation identities and
are scored on them alone (mmm.data.validation), so no search ever computes a test metric.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from harness.spec import StudyError, StudySpec

TEST = "test"
VALIDATION = "validation"


@dataclass(frozen=True)
class Cell:
    study: str
    variant: str
    method: str
    dataset: str
    seed: int
    regdb_trial: int | None  # the RegDB split; None on SYSU-MM01
    slot: int | None = None  # tuning studies: which of the dataset's n_trials this is
    overrides: Mapping[str, Any] = field(default_factory=dict, compare=False)  # the variant's config fields
    scored_on: str = TEST  # "test", or "validation": a search trial, trained with the validation ids held out
    tag: str | None = None  # what else tells the cell apart (a tuning study's final cells: the chosen parameters)

    @property
    def id(self) -> str:
        """Unique within a study and stable across runs: how stored trials are matched to cells."""
        parts = [self.variant, self.dataset, f"seed{self.seed}"]
        if self.regdb_trial is not None:
            parts.append(f"trial{self.regdb_trial}")
        if self.slot is not None:
            parts.append(f"slot{self.slot:03d}")
        if self.tag is not None:
            parts.append(self.tag)
        return "/".join(parts)

    def describe(self) -> dict[str, Any]:
        """The cell as a JSON-serialisable dict (stored with its trial)."""
        return {
            "id": self.id,
            "study": self.study,
            "variant": self.variant,
            "method": self.method,
            "dataset": self.dataset,
            "seed": self.seed,
            "regdb_trial": self.regdb_trial,
            "slot": self.slot,
            "scored_on": self.scored_on,
            "tag": self.tag,
        }


def plan_cells(
    spec: StudySpec, profile: str, *, datasets: Sequence[str], seeds: Sequence[int] | None = None
) -> list[Cell]:
    """The cells of `spec` under `profile` on those of `datasets` the study uses; `seeds` replaces the
    profile's seeds. Ordered dataset, seed, RegDB split, variant, so cells that can share cached stages A+B
    (same dataset and seed, different stage C) run one after the other."""
    plan = spec.plan(profile)
    unknown = sorted(set(datasets) - set(spec.datasets))
    if unknown:
        raise StudyError(f"study {spec.name!r} does not use dataset(s) {unknown}; it uses {list(spec.datasets)}")
    chosen = [d for d in spec.datasets if d in datasets]
    seeds = tuple(plan.seeds if seeds is None else seeds)
    if not seeds or min(seeds) < 0:
        raise StudyError(f"seeds must be non-negative integers, got {list(seeds)}")
    if spec.is_tuning:
        return _tuning_cells(spec, chosen, seeds[0], plan.regdb_trials[0], plan.n_trials)
    cells = []
    for dataset in chosen:
        splits: tuple[int | None, ...] = plan.regdb_trials if dataset == "regdb" else (None,)
        for seed in seeds:
            for split in splits:
                cells += [
                    Cell(spec.name, v.name, v.method, dataset, seed, split, overrides=dict(v.overrides))
                    for v in spec.variants
                ]
    return cells


def _tuning_cells(spec: StudySpec, datasets: Sequence[str], seed: int, split: int, n_trials: int) -> list[Cell]:
    # Every search trial trains one model: the first seed, and on RegDB the first split, keep trials comparable.
    # It is scored on the validation split, also after each contrastive stage, so the pruner has values to compare.
    base = spec.variants[0]
    return [
        Cell(
            spec.name,
            base.name,
            base.method,
            dataset,
            seed,
            split if dataset == "regdb" else None,
            slot,
            overrides={**base.overrides, "intermediate_eval": True},
            scored_on=VALIDATION,
        )
        for dataset in datasets
        for slot in range(n_trials)
    ]
