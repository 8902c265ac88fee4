"""A tuning study in two phases, with the fake method: the search is scored on validation only, and once every
search cell is done its best trial and the defaults become ordinary test-scored cells in Optuna studies of their
own, which resume like any other; the choice becomes a --params file other studies can start from."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from optuna.trial import TrialState

from harness.cells import TEST, VALIDATION, Cell
from harness.errors import UsageError
from harness.final_phase import DEFAULT, SELECTED, Selection, final_cells, plan_final_phase
from harness.params_file import read_params_file, with_params, write_params_file
from harness.queue import Ledger, WorkerIdentity, parse_storage
from harness.records import METRICS
from harness.runner import run_cells
from harness.spec import FloatParam, StudySpec, Variant, tuning_profiles
from tests.harness.fakes import FAST_LEASES, fake_environment, planned, recording_method, run_fake, synthetic_key

SPEC = StudySpec(
    name="tiny_tune",
    description="test",
    variants=(Variant("mmm"),),
    reference="mmm",
    profiles=tuning_profiles(smoke=4, quick=1, paper=1),
    search_space={"lambda_intra": FloatParam(0.1, 1.0)},
    prune_after_trials=10,
)


def _score(config) -> float:  # type: ignore[no-untyped-def]
    return 40.0 + 10.0 * config.lambda_intra + config.seed


def _ledger(tmp_path: Path) -> Ledger:
    return Ledger(parse_storage(None, tmp_path / SPEC.name), SPEC, synthetic_key(SPEC, "smoke"))


def test_search_cells_are_scored_on_validation_and_the_final_phase_on_test(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    search = planned(ledger)
    assert {c.scored_on for c in search} == {VALIDATION} and len(search) == 2 * 4
    run_fake(ledger, recording_method(tmp_path / "log", score=_score), tmp_path)
    me = WorkerIdentity.current()
    phase = plan_final_phase(ledger, search, "smoke", FAST_LEASES, me)
    assert phase is not None
    for dataset in ("sysu", "regdb"):
        trials = [t for t in ledger.trials(dataset) if t.state == TrialState.COMPLETE]
        assert all(set(t.user_attrs[METRICS]) <= {"val-all", "val-v2i", "val-i2v"} for t in trials)
        best = max(trials, key=lambda t: t.value)  # type: ignore[arg-type, return-value]
        chosen = phase.selections[dataset]
        assert (chosen.trial, chosen.value, chosen.params) == (best.number, best.value, best.params)
    # The choice and the defaults, per dataset and seed of the profile (smoke: 0 and 1), scored on test.
    assert {(c.variant, c.dataset, c.seed) for c in phase.cells} == {
        (v, d, s) for v in (SELECTED, DEFAULT) for d in ("sysu", "regdb") for s in (0, 1)
    }
    assert {c.scored_on for c in phase.cells} == {TEST}
    for cell in phase.cells:
        expected = phase.selections[cell.dataset].params if cell.variant == SELECTED else {}
        assert dict(cell.overrides) == expected
    assert phase.ledger.name("sysu") == f"{ledger.name('sysu')}:final"

    env = fake_environment(recording_method(tmp_path / "final.log", score=_score), tmp_path / "data")
    summary = run_cells(phase.cells, phase.ledger, env, policy=FAST_LEASES, me=me)
    assert len(summary.completed) == len(phase.cells) == 8
    assert all(set(t.user_attrs[METRICS]) <= {"all", "indoor", "v2i", "i2v"} for t in phase.ledger.trials("sysu"))
    assert len(ledger.trials("sysu")) == 4  # the search's Optuna study holds no test-scored trial

    again = plan_final_phase(ledger, search, "smoke", FAST_LEASES, me)
    assert again is not None and [c.id for c in again.cells] == [c.id for c in phase.cells]
    rerun = run_cells(again.cells, again.ledger, env, policy=FAST_LEASES, me=me)
    assert rerun.already_done == 8 and not rerun.completed


def test_no_final_phase_while_a_search_cell_is_not_done(tmp_path: Path) -> None:
    ledger = _ledger(tmp_path)
    failing = "mmm/regdb/seed0/trial1/slot002"
    run_fake(ledger, recording_method(tmp_path / "log", score=_score, fail=[failing]), tmp_path)
    assert plan_final_phase(ledger, planned(ledger), "smoke", FAST_LEASES, WorkerIdentity.current()) is None


def test_another_choice_is_another_selected_cell_and_the_same_default_cell() -> None:
    def chosen(value: float) -> dict[str, Selection]:
        return {"sysu": Selection("sysu", {"lambda_intra": value}, trial=3, value=50.0, complete=4, pruned=0)}

    one, other = (final_cells(SPEC, "smoke", chosen(v)) for v in (0.2, 0.7))
    ids: dict[str, set[str]] = {SELECTED: set(), DEFAULT: set()}
    for cell in one + other:
        ids[cell.variant].add(cell.id)
    assert len(ids[SELECTED]) == 4 and len(ids[DEFAULT]) == 2


def test_a_params_file_feeds_other_studies_under_each_variants_own_fields(tmp_path: Path) -> None:
    path = tmp_path / "best_params.json"
    write_params_file(path, {"sysu": {"lambda_intra": 0.3, "memories": 2}}, {"study": "tune"})
    params = read_params_file(path)
    assert params.identity.startswith("params@") and json.loads(path.read_text())["study"] == "tune"
    cells = [
        Cell("memories", "n1", "mmm", "sysu", 0, None, overrides={"memories": 1}),
        Cell("memories", "n1", "mmm", "regdb", 0, 1, overrides={"memories": 1}),
    ]
    sysu, regdb = with_params(cells, params)
    assert dict(sysu.overrides) == {"lambda_intra": 0.3, "memories": 1}  # the variant's own field wins
    assert dict(regdb.overrides) == {"memories": 1}  # nothing chosen for RegDB


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "not valid JSON"),
        ('{"params": {}}', 'expected a JSON object with "params"'),
        ('{"params": {"market": {"eps": 0.5}}}', "params.market: unknown dataset"),
        ('{"params": {"sysu": {"lamda_intra": 0.5}}}', "params.sysu: ['lamda_intra'] are not config fields"),
        ('{"params": {"sysu": {"seed": 3}}}', "params.sysu: ['seed'] are not config fields"),
        ('{"params": {"sysu": {"recipe": "release"}}}', "set ['recipe'] with ['--recipe'] instead"),
        ('{"params": {"sysu": {"memories": 0}}}', "params.sysu: PipelineConfig.memories: expected >= 1"),
    ],
)
def test_a_bad_params_file_is_a_usage_error_naming_the_file_and_field(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "params.json"
    path.write_text(content)
    with pytest.raises(UsageError, match=rf"--params {re.escape(str(path))}: .*{re.escape(message)}"):
        read_params_file(path)
