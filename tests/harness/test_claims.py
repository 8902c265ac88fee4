"""Claims and leases on a real journal storage: one holder per cell, dead holders are taken over, an earlier
claim that is not labelled yet is waited for."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import optuna
import psutil
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from harness.queue import CellState, Heartbeat, LeasePolicy, WorkerIdentity, claim_cell
from harness.queue.bookkeeping import CLAIM, HEARTBEAT, LOST, WON
from harness.queue.claims import Verdict, is_dead, judge, superseded
from harness.queue.status import cell_statuses
from mmm.code_identity import CodeIdentity
from tests.harness.fakes import dead_process_identity

POLICY = LeasePolicy(heartbeat_seconds=0.1, grace_seconds=60.0, poll_seconds=0.01)


@pytest.fixture()
def study(tmp_path: Path) -> optuna.Study:
    storage = JournalStorage(JournalFileBackend(str(tmp_path / "optuna.journal")))
    return optuna.create_study(storage=storage, study_name="claims", direction="maximize")


@pytest.fixture()
def me() -> WorkerIdentity:
    return WorkerIdentity.current()


def test_first_claim_holds_the_cell_and_a_second_one_loses(study: optuna.Study, me: WorkerIdentity) -> None:
    first = claim_cell(study, "c1", POLICY, me)
    second = claim_cell(study, "c1", POLICY, me)
    assert first is not None and second is None
    trials = study.get_trials()
    assert trials[0].user_attrs[WON] is True
    assert trials[1].state == TrialState.FAIL and trials[1].user_attrs[LOST] is True


def test_claims_of_different_cells_do_not_interfere(study: optuna.Study, me: WorkerIdentity) -> None:
    assert claim_cell(study, "c1", POLICY, me) is not None
    assert claim_cell(study, "c2", POLICY, me) is not None


def test_a_complete_cell_is_not_claimed_again(study: optuna.Study, me: WorkerIdentity) -> None:
    trial = claim_cell(study, "c1", POLICY, me)
    study.tell(trial, 1.0)
    assert claim_cell(study, "c1", POLICY, me) is None


def test_a_failed_attempt_is_claimed_again(study: optuna.Study, me: WorkerIdentity) -> None:
    trial = claim_cell(study, "c1", POLICY, me)
    study.tell(trial, state=TrialState.FAIL)
    assert claim_cell(study, "c1", POLICY, me) is not None


def test_a_silent_claim_is_taken_over_after_the_grace(study: optuna.Study, me: WorkerIdentity) -> None:
    assert claim_cell(study, "c1", POLICY, me) is not None
    later = time.time() + POLICY.grace_seconds + 1
    assert claim_cell(study, "c1", POLICY, me, clock=lambda: later) is not None


def test_a_claim_of_a_vanished_process_on_this_host_is_taken_over_at_once(
    study: optuna.Study, me: WorkerIdentity
) -> None:
    assert claim_cell(study, "c1", POLICY, dead_process_identity()) is not None
    assert claim_cell(study, "c1", POLICY, me) is not None


def test_a_live_claim_of_another_process_on_this_host_is_respected(study: optuna.Study, me: WorkerIdentity) -> None:
    parent = WorkerIdentity(me.host, *_parent_pid_and_start())
    assert claim_cell(study, "c1", POLICY, parent) is not None
    assert claim_cell(study, "c1", POLICY, me) is None


def _parent_pid_and_start() -> tuple[int, float]:
    parent = psutil.Process().parent()
    return parent.pid, parent.create_time()


def test_an_earlier_unlabelled_claim_is_waited_for(study: optuna.Study, me: WorkerIdentity) -> None:
    other = study.ask()  # another worker's claim whose label is not stored yet
    labelled = []

    def sleep(seconds: float) -> None:
        # The other worker's label lands while this one waits.
        if not labelled:
            other.set_user_attr(
                CLAIM,
                {"cell": "c1", "host": me.host, "pid": me.pid, "started": me.started, "token": "0", "at": time.time()},
            )
            labelled.append(True)

    assert claim_cell(study, "c1", POLICY, me, sleep=sleep) is None
    assert labelled


def test_judge_waits_on_an_unlabelled_earlier_trial_and_ignores_later_ones(study: optuna.Study) -> None:
    unlabelled = study.ask()
    mine = study.ask()
    mine.set_user_attr(CLAIM, {"cell": "c1", "token": "b"})
    later = study.ask()
    later.set_user_attr(CLAIM, {"cell": "c1", "token": "c"})
    trials = study.get_trials()
    assert judge(mine.number, "b", "c1", trials, lambda t: True, lambda t: True) is Verdict.WAIT
    assert judge(mine.number, "b", "c1", trials, lambda t: t.number != unlabelled.number, lambda t: True) is Verdict.WIN


def test_superseded_when_a_later_claim_of_the_cell_won(study: optuna.Study, me: WorkerIdentity) -> None:
    first = claim_cell(study, "c1", POLICY, me)
    later = time.time() + POLICY.grace_seconds + 1
    claim_cell(study, "c1", POLICY, me, clock=lambda: later)
    trials = study.get_trials()
    assert superseded(first.number, "c1", trials)
    assert not superseded(trials[-1].number, "c1", trials)


def test_dead_only_applies_to_running_trials(study: optuna.Study, me: WorkerIdentity) -> None:
    trial = claim_cell(study, "c1", POLICY, dead_process_identity())
    assert is_dead(study.get_trials()[0], POLICY, me, time.time())
    study.tell(trial, 1.0)
    assert not is_dead(study.get_trials()[0], POLICY, me, time.time())


def test_cell_statuses_from_attempts(study: optuna.Study, me: WorkerIdentity) -> None:
    study.tell(claim_cell(study, "done", POLICY, me), 1.0)
    failed = claim_cell(study, "failed", POLICY, me)
    failed.set_user_attr("harness.error", "RuntimeError: boom")
    study.tell(failed, state=TrialState.FAIL)
    claim_cell(study, "running", POLICY, me)
    claim_cell(study, "abandoned", POLICY, dead_process_identity())
    statuses = cell_statuses(
        ["done", "failed", "running", "abandoned", "never"], study.get_trials(), POLICY, me, time.time()
    )
    assert {k: s.state for k, s in statuses.items()} == {
        "done": CellState.DONE,
        "failed": CellState.FAILED,
        "running": CellState.RUNNING,
        "abandoned": CellState.ABANDONED,
        "never": CellState.PENDING,
    }
    assert statuses["failed"].error == "RuntimeError: boom"


def test_heartbeat_stamps_the_claim_and_notices_a_takeover(study: optuna.Study, me: WorkerIdentity) -> None:
    trial = claim_cell(study, "c1", POLICY, me)
    with Heartbeat(study, trial, "c1", POLICY) as heartbeat:
        deadline = time.monotonic() + 10
        while HEARTBEAT not in study.get_trials()[0].user_attrs:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        later = time.time() + POLICY.grace_seconds + 1
        assert claim_cell(study, "c1", POLICY, me, clock=lambda: later) is not None
        assert heartbeat.lost.wait(10)


def _other_code(me: WorkerIdentity) -> WorkerIdentity:
    """The same worker running other code (another source hash)."""
    return dataclasses.replace(me, code=CodeIdentity("0" * 16, "an-older-commit", False))


def test_a_cell_finished_by_other_code_is_stale_and_claimed_again(study: optuna.Study, me: WorkerIdentity) -> None:
    study.tell(claim_cell(study, "c1", POLICY, _other_code(me)), 1.0)
    [status] = cell_statuses(["c1"], study.get_trials(), POLICY, me, time.time()).values()
    assert status.state is CellState.STALE and status.label == "stale"
    assert "finished by other code: source 0000000000000000" in status.error
    assert cell_statuses(["c1"], study.get_trials(), POLICY, _other_code(me), time.time())["c1"].state is CellState.DONE

    rerun = claim_cell(study, "c1", POLICY, me)
    assert rerun is not None, "a stale result must not block the re-run"
    study.tell(rerun, 2.0)
    [status] = cell_statuses(["c1"], study.get_trials(), POLICY, me, time.time()).values()
    assert (status.state, status.stale, status.trial.number) == (CellState.DONE, False, rerun.number)
    assert claim_cell(study, "c1", POLICY, me) is None  # done by this code: not claimed again


def test_kept_stale_results_count_as_done_and_say_so(study: optuna.Study, me: WorkerIdentity) -> None:
    study.tell(claim_cell(study, "c1", POLICY, _other_code(me)), 1.0)
    [status] = cell_statuses(["c1"], study.get_trials(), POLICY, me, time.time(), keep_stale=True).values()
    assert (status.state, status.stale, status.label) == (CellState.DONE, True, "stale")


def test_a_result_that_recorded_no_code_is_stale(study: optuna.Study, me: WorkerIdentity) -> None:
    # A claim as the harness wrote it before claims recorded the code.
    trial = study.ask()
    trial.set_user_attr(CLAIM, {"cell": "c1", "host": me.host, "pid": me.pid, "started": me.started, "token": "t"})
    study.tell(trial, 1.0)
    [status] = cell_statuses(["c1"], study.get_trials(), POLICY, me, time.time()).values()
    assert status.state is CellState.STALE
    assert "code that recorded no identity" in status.error
