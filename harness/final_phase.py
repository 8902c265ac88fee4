"""The final phase of a tuning study: once every search cell is done, the search's choice ("selected": the best
search trial's parameters on each dataset) and the profile's defaults ("default") are re-trained on the whole
training split (train ∪ val, as the published protocol trains) and scored on the test set, over the study's seeds
and RegDB trials. The report pairs the two run by run (seed, RegDB trial).

Nothing here looks at a test metric to choose: the choice is the search cell with the highest validation objective
(the earliest trial on a tie). Final cells are ordinary cells in an Optuna study of their own (the search's name
plus ":final"), so they are claimed, resumed and failed like any other cell. A "selected" cell's id carries a
hash of its parameters, so a search that ends with another choice never counts an earlier final run as done.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from optuna.trial import TrialState

from harness.cells import Cell
from harness.queue import CellState, LeasePolicy, Ledger, WorkerIdentity
from harness.spec import StudySpec, Variant
from mmm.choices import OBJECTIVE_PROTOCOLS, PRIMARY_METRIC
from reports.schema import DEFAULT_VARIANT, SELECTED_VARIANT
from reports.schema import FINAL_FOLDER as FINAL_FOLDER

# The variants: the search's choice, re-trained and scored on test, and the profile's own values run the same way
# (the reference the choice is paired with).
SELECTED, DEFAULT = SELECTED_VARIANT, DEFAULT_VARIANT
FINAL_PHASE = "final"  # the final cells' Optuna studies: the search's names plus ":final"


@dataclass(frozen=True)
class Selection:
    """What the search chose on one dataset."""

    dataset: str
    params: dict[str, Any]  # the searched fields of the best search trial
    trial: int  # its Optuna trial number
    value: float  # its validation objective
    complete: int  # complete search trials it was chosen among
    pruned: int  # search trials the pruner stopped (never candidates)

    @property
    def protocol(self) -> str:
        return OBJECTIVE_PROTOCOLS[self.dataset]

    @property
    def tag(self) -> str:
        """A short hash of the parameters: part of the selected cells' ids."""
        return "p" + hashlib.sha256(json.dumps(self.params, sort_keys=True).encode()).hexdigest()[:8]

    def describe(self) -> dict[str, Any]:
        return {
            "trial": self.trial,
            "protocol": self.protocol,
            "metric": PRIMARY_METRIC,
            "value": self.value,
            "complete_trials": self.complete,
            "pruned_trials": self.pruned,
        }


@dataclass(frozen=True)
class FinalPhase:
    selections: Mapping[str, Selection]  # dataset -> the search's choice
    cells: list[Cell]
    ledger: Ledger


def select(
    ledger: Ledger, search_cells: Sequence[Cell], policy: LeasePolicy, me: WorkerIdentity
) -> dict[str, Selection] | None:
    """The best search trial per dataset by its validation objective; None while any search cell is not done (a
    choice among part of the trials could change when the rest finish)."""
    statuses = ledger.statuses(search_cells, policy, me)
    if any(status.state is not CellState.DONE for status in statuses.values()):
        return None
    selections = {}
    for dataset in dict.fromkeys(cell.dataset for cell in search_cells):
        trials = [statuses[c.id].trial for c in search_cells if c.dataset == dataset]
        complete = [t for t in trials if t is not None and t.state == TrialState.COMPLETE and t.value is not None]
        if not complete:
            return None
        best = max(complete, key=lambda t: (t.value, -t.number))
        selections[dataset] = Selection(
            dataset=dataset,
            params=dict(best.params),
            trial=best.number,
            value=float(best.value),  # type: ignore[arg-type]
            complete=len(complete),
            pruned=sum(t is not None and t.state == TrialState.PRUNED for t in trials),
        )
    return selections


def final_spec(spec: StudySpec) -> StudySpec:
    """The final cells' study: the choice and the defaults, nothing searched (so nothing sampled or pruned)."""
    base = spec.variants[0]
    return StudySpec(
        name=spec.name,
        description=f"{spec.description}: the choice and the defaults, re-trained and scored on test",
        variants=(Variant(SELECTED, method=base.method), Variant(DEFAULT, base.overrides, base.method)),
        reference=DEFAULT,
        datasets=spec.datasets,
    )


def final_cells(
    spec: StudySpec, profile: str, selections: Mapping[str, Selection], seeds: Sequence[int] | None = None
) -> list[Cell]:
    """Per dataset, seed and RegDB trial of the profile (`seeds` replacing its seeds), the selected parameters and
    the defaults, trained on the whole training split and scored on test. Ordered so the two share cached stages
    where their parameters allow."""
    plan = spec.plan(profile)
    base = spec.variants[0]
    cells = []
    for dataset, selection in selections.items():
        splits: tuple[int | None, ...] = plan.regdb_trials if dataset == "regdb" else (None,)
        for seed in plan.seeds if seeds is None else seeds:
            for split in splits:
                cells.append(
                    Cell(
                        spec.name,
                        SELECTED,
                        base.method,
                        dataset,
                        seed,
                        split,
                        overrides={**base.overrides, **selection.params},
                        tag=selection.tag,
                    )
                )
                default = Cell(spec.name, DEFAULT, base.method, dataset, seed, split, overrides=dict(base.overrides))
                cells.append(default)
    return cells


def plan_final_phase(
    search: Ledger,
    search_cells: Sequence[Cell],
    profile: str,
    policy: LeasePolicy,
    me: WorkerIdentity,
    seeds: Sequence[int] | None = None,
) -> FinalPhase | None:
    """The final phase of a tuning study once its search is done; None before."""
    selections = select(search, search_cells, policy, me)
    if selections is None:
        return None
    ledger = search.sibling(final_spec(search.spec), FINAL_PHASE)
    return FinalPhase(selections, final_cells(search.spec, profile, selections, seeds), ledger)


def selected_params(phase: FinalPhase) -> dict[str, dict[str, Any]]:
    """dataset -> the chosen fields, as a --params file holds them."""
    return {dataset: dict(selection.params) for dataset, selection in phase.selections.items()}
