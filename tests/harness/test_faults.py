"""Faults injected where they hurt, each a test: a torn journal (cut by hand and by a full disk), a full or
read-only disk under the stage cache, another data root, another profile, a password in the storage URL, each
storage and output-folder problem (exit 2, one line, before anything trains), an interrupt's summary, a damaged
synthetic image, and a worker whose peer died on another host."""

from __future__ import annotations

import csv
import errno
import json
import logging
import os
import shutil
import signal
import socket
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest
import torch
from optuna.trial import TrialState

import reports.render
from harness.data_source import DataSource
from harness.methods import Method
from harness.queue import JOURNAL_NAME, CellState, LeasePolicy, WorkerIdentity, claim_cell
from harness.queue.journal import TORN_SUFFIX
from harness.redact import redact
from harness.registry import load_study
from harness.run_key import RunKey
from harness.runner import RunInterrupted, run_cells
from harness.stage_cache import FileStageStore
from harness.study import main
from mmm.choices import METRICS
from mmm.data.image_store import load_images
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.hooks import Diagnose, ProgressCallback, StageStore
from mmm.pipeline.result import RunResult
from tests.availability import require
from tests.harness.fakes import (
    FAST_LEASES,
    PROTOCOLS,
    TaskLike,
    dead_process_identity,
    fake_environment,
    fake_ledger,
    logged,
    planned,
    profile_weights,
    recording_method,
    run_fake,
)

SMOKE = ["smoke", "--profile", "smoke"]
ALL_CELLS = ["full/sysu/seed0", "sca_off/sysu/seed0", "full/regdb/seed0/trial1", "sca_off/regdb/seed0/trial1"]

pytestmark = pytest.mark.usefixtures("restore_logging")


def _states(ledger: Any) -> dict[str, CellState]:
    statuses = ledger.statuses(planned(ledger), FAST_LEASES, WorkerIdentity.current())
    return {cell_id: status.state for cell_id, status in statuses.items()}


def _one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# --- a torn journal -------------------------------------------------------------------------------------------


def test_a_torn_journal_is_read_without_its_torn_record_and_read_only_commands_write_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    run_fake(
        fake_ledger(None, tmp_path, "smoke"), recording_method(tmp_path / "log"), tmp_path, me=dead_process_identity()
    )
    journal = tmp_path / "smoke" / JOURNAL_NAME
    with journal.open("r+b") as handle:  # the reproduction: truncate -s -150
        handle.truncate(journal.stat().st_size - 150)
    torn = journal.read_bytes()
    argv = [*SMOKE, "--out", str(tmp_path)]

    for _ in range(2):
        assert main([*argv, "--dry-run"]) == 0
    assert main([*argv, "--report-only"]) == 0
    assert main(["--list"]) == 0
    assert journal.read_bytes() == torn, "a read-only command wrote to the journal"
    assert not list(journal.parent.glob(f"*{TORN_SUFFIX}*"))
    out = capsys.readouterr().out
    # The torn record was the last cell's result; the claim of its (gone) worker is all that is left of it.
    assert "smoke (smoke, synthetic data, weights imagenet@2f518e773d44): 4 cells — 3 done, 1 abandoned" in out
    assert "torn record(s)" in caplog.text


def test_a_run_sets_the_torn_record_aside_keeps_every_whole_one_and_finishes_the_study(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run_fake(
        fake_ledger(None, tmp_path, "smoke"),
        recording_method(tmp_path / "first.log"),
        tmp_path,
        me=dead_process_identity(),
    )
    journal = tmp_path / "smoke" / JOURNAL_NAME
    whole = journal.read_bytes()
    with journal.open("r+b") as handle:
        handle.truncate(len(whole) - 150)
    kept = whole[: whole.rindex(b"\n", 0, len(whole) - 150) + 1]

    with caplog.at_level(logging.WARNING, logger="harness"):
        summary = run_fake(fake_ledger(None, tmp_path, "smoke"), recording_method(tmp_path / "second.log"), tmp_path)
    assert journal.read_bytes().startswith(kept)
    backups = list(journal.parent.glob(f"{JOURNAL_NAME}{TORN_SUFFIX}*"))
    assert len(backups) == 1 and backups[0].read_bytes() == whole[len(kept) : len(whole) - 150] + b"\n"
    assert [line for line in caplog.text.splitlines() if "set aside a torn record" in line]
    assert summary.already_done == 3 and summary.completed == [ALL_CELLS[-1]]
    assert set(_states(fake_ledger(None, tmp_path, "smoke")).values()) == {CellState.DONE}


def test_records_an_older_writer_appended_onto_a_torn_line_survive(tmp_path: Path) -> None:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    run_fake(fake_ledger(None, tmp_path, "smoke"), recording_method(tmp_path / "log"), tmp_path)
    journal = tmp_path / "smoke" / JOURNAL_NAME
    with journal.open("r+b") as handle:
        handle.truncate(journal.stat().st_size - 150)
    # Optuna's own backend appends onto the partial line: from then on it cannot read the file back.
    older = JournalFileBackend(str(journal))
    for name in ("appended-after-the-tear", "appended-next"):
        older.append_logs([{"op_code": 0, "worker_id": "older", "study_name": name, "directions": [2]}])
    with pytest.raises(ValueError):
        JournalStorage(JournalFileBackend(str(journal))).get_all_studies()

    ledger = fake_ledger(None, tmp_path, "smoke")
    assert {"appended-after-the-tear", "appended-next"} <= set(ledger.stored_study_names())
    assert _states(ledger)["full/sysu/seed0"] is CellState.DONE


def _fill(folder: Path) -> Path:
    """Write a file into `folder` until its filesystem is full; return it."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


def test_a_journal_torn_by_a_full_disk_is_repaired_once_there_is_room(
    tmp_path: Path, tmpfs: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    disk = tmpfs("disk", 1024)
    ledger = fake_ledger(None, disk, "smoke")
    run_fake(ledger, recording_method(tmp_path / "first.log", fail={ALL_CELLS[-1]}), disk)
    journal = disk / "smoke" / JOURNAL_NAME
    study = ledger.study("sysu")
    trial = claim_cell(study, "big", FAST_LEASES, WorkerIdentity.current())
    assert trial is not None
    if journal.stat().st_size % 4096 == 0:  # a torn write needs a partly filled last page to land in
        study.set_user_attr("pad", 1)
    filler = _fill(disk)
    with pytest.raises(OSError) as raised:
        trial.set_user_attr("big", "x" * 20_000)
    assert raised.value.errno == errno.ENOSPC
    assert not journal.read_bytes().endswith(b"\n"), "the full disk should have torn the record"

    filler.unlink()
    assert main([*SMOKE, "--out", str(disk), "--dry-run"]) == 0
    assert "3 done, 1 failed" in capsys.readouterr().out
    summary = run_fake(fake_ledger(None, disk, "smoke"), recording_method(tmp_path / "second.log"), disk)
    assert summary.completed == [ALL_CELLS[-1]]
    assert list(journal.parent.glob(f"{JOURNAL_NAME}{TORN_SUFFIX}*"))
    assert journal.read_bytes().endswith(b"\n")


# --- the stage cache on a full or read-only disk ----------------------------------------------------------------


def _method_caching(value: Any) -> Method:
    """A method that stores `value` in the stage cache and returns made-up metrics."""

    def method(
        config: PipelineConfig,
        task: TaskLike,
        *,
        device: torch.device,
        cache_dir: Path,
        store: StageStore | None = None,
        on_progress: ProgressCallback | None = None,
        diagnose: Diagnose | None = None,
    ) -> RunResult:
        assert store is not None
        store.save("A", f"key{config.seed}{config.intra}", value)
        score = 40.0 + config.seed
        return RunResult(metrics={p: {m: score for m in METRICS} for p in PROTOCOLS[config.dataset]})

    return method


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_a_stage_cache_that_cannot_be_written_fails_no_cell(
    tmp_path: Path, tmpfs: Callable[..., Path], caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    cache = tmpfs("cache", 1024, read_only=fault == "read-only")
    ledger = fake_ledger(str(tmp_path / "trials.journal"), tmp_path, "smoke")
    store = FileStageStore(cache)
    env = fake_environment(_method_caching(torch.zeros(512 * 1024)), tmp_path / "data", store)  # 2 MB entries
    with caplog.at_level(logging.WARNING, logger="harness.stage_cache"):
        summary = run_cells(planned(ledger), ledger, env, policy=FAST_LEASES, me=WorkerIdentity.current())
    assert summary.completed == ALL_CELLS and not summary.failed
    assert set(_states(ledger).values()) == {CellState.DONE}
    expected = "No space left on device" if fault == "full" else "Read-only file system"
    warnings = [r.getMessage() for r in caplog.records if "could not be written" in r.getMessage()]
    assert len(warnings) == 4 and all(str(cache / "A") in w and expected in w for w in warnings)
    assert store.stats.unwritten["A"] == 4
    assert not [p for p in cache.rglob("*") if p.is_file()]


def test_a_full_disk_under_out_and_its_journal_still_stores_every_cell(
    tmp_path: Path, tmpfs: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    out = tmpfs("out", 1024)  # the case: journal and stage cache on one small disk
    ledger = fake_ledger(None, out, "smoke")
    env = fake_environment(_method_caching(torch.zeros(512 * 1024)), tmp_path / "data", FileStageStore(out / "cache"))
    summary = run_cells(planned(ledger), ledger, env, policy=FAST_LEASES, me=WorkerIdentity.current())
    assert summary.completed == ALL_CELLS
    assert set(_states(fake_ledger(None, out, "smoke", read_only=True)).values()) == {CellState.DONE}
    assert "No space left on device" in caplog.text


# --- another data root, another profile -------------------------------------------------------------------------


def _tree(root: Path, sizes: dict[str, int]) -> Path:
    for relative, size in sizes.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * size)
    return root


TREE = {
    "SYSU-MM01/cam1/0001/0001.jpg": 10,
    "SYSU-MM01/cam3/0001/0001.jpg": 11,
    "SYSU-MM01/exp/train_id.txt": 4,
    "RegDB/Visible/1/a.bmp": 7,
    "RegDB/Thermal/1/b.bmp": 8,
}


def test_a_cell_done_on_one_data_root_is_not_done_on_another(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root_a = _tree(tmp_path / "A", TREE)
    root_b = _tree(tmp_path / "B", {**TREE, "SYSU-MM01/cam1/0001/0001.jpg": 12})  # one SYSU image differs
    copy_of_a = tmp_path / "elsewhere" / "A"
    shutil.copytree(root_a, copy_of_a)  # another place, other modification times: the same data
    out = tmp_path / "runs"
    weights = profile_weights(load_study("smoke"), "smoke")
    key_a = RunKey("smoke", DataSource.real(root_a, tmp_path).identity(["sysu", "regdb"]), weights)
    run_fake(fake_ledger(None, out, "smoke", key=key_a), recording_method(tmp_path / "log"), out)

    def dry_run(root: Path) -> list[str]:
        assert main([*SMOKE, "--data-root", str(root), "--out", str(out), "--dry-run"]) == 0
        return capsys.readouterr().out.splitlines()

    assert "4 cells — 4 done" in dry_run(root_a)[0]
    assert "4 cells — 4 done" in dry_run(copy_of_a)[0]
    on_b = dry_run(root_b)
    assert "4 cells — 2 done, 2 pending" in on_b[0]  # RegDB is the same tree; SYSU-MM01 is not
    assert "pending  full/sysu/seed0" in on_b and "done     full/regdb/seed0/trial1" in on_b


def test_the_synthetic_spec_is_part_of_the_data_identity(tmp_path: Path) -> None:
    smoke = DataSource.synthetic(tmp_path, small=True).identity(["sysu"])
    default = DataSource.synthetic(tmp_path, small=False).identity(["sysu"])
    assert smoke["sysu"].startswith("synthetic@") and smoke != default


def test_profiles_keep_separate_results_in_one_out(tmp_path: Path) -> None:
    run_fake(fake_ledger(None, tmp_path, "smoke", "smoke"), recording_method(tmp_path / "log"), tmp_path)
    run_fake(fake_ledger(None, tmp_path, "smoke", "quick"), recording_method(tmp_path / "log"), tmp_path)
    assert main(["smoke", "--profile", "smoke", "--out", str(tmp_path), "--report-only"]) == 0
    smoke_rows = (tmp_path / "smoke" / "smoke" / "results.csv").read_text()
    assert main(["smoke", "--profile", "quick", "--out", str(tmp_path), "--report-only"]) == 0
    paper = ["smoke", "--profile", "paper", "--pretrained", "none", "--out", str(tmp_path), "--report-only"]
    assert main(paper) == 0  # nothing stored

    assert (tmp_path / "smoke" / "smoke" / "results.csv").read_text() == smoke_rows
    for profile, seeds in (("smoke", 1), ("quick", 3)):
        folder = tmp_path / "smoke" / profile
        rows = list(csv.DictReader((folder / "results.csv").open()))
        assert len(rows) == 4 * 2 * 5 * seeds
        assert json.loads((folder / "provenance.json").read_text())["profile"] == profile
        assert (folder / "report.html").is_file()
    assert not (tmp_path / "smoke" / "paper").exists()


# --- passwords ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://user:pw@127.0.0.1:5432/db", "postgresql://user:***@127.0.0.1:5432/db"),
        ("--storage=mysql+pymysql://a:p@ss:w@h/d tail", "--storage=mysql+pymysql://a:***@h/d tail"),
        ("postgresql://user@host/db", "postgresql://user@host/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
        ("http://host:8080/path", "http://host:8080/path"),
    ],
)
def test_passwords_in_urls_are_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_the_storage_password_is_masked_in_provenance_report_and_logs(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    password = _password(postgres_url)
    require(bool(password), f"the test server's URL has no password to mask: {redact(postgres_url)}")
    run_fake(fake_ledger(postgres_url, tmp_path, "smoke"), recording_method(tmp_path / "log"), tmp_path)
    assert main([*SMOKE, "--out", str(tmp_path), "--storage", postgres_url, "--report-only", "-v"]) == 0
    folder = tmp_path / "smoke" / "smoke"
    provenance = json.loads((folder / "provenance.json").read_text())
    assert "***" in provenance["command"] and "***" in provenance["storage"]
    html = (folder / "report.html").read_text()
    assert "--storage" in html
    written = [provenance["command"], provenance["storage"], html, capsys.readouterr().err]
    assert not [text for text in written if password in text]


def _password(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).password or ""


# --- storage and output-folder problems: exit 2, one line ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("mode", ["--dry-run", "run"])
@pytest.mark.parametrize(
    ("storage", "expected"),
    [
        (lambda tmp: f"sqlite:///{tmp}/missing/dir/x.db", "missing/dir does not exist; create it"),
        (lambda tmp: "sqlite://", "in-memory SQLite"),
        (lambda tmp: "sqlite:///:memory:", "in-memory SQLite"),
        (lambda tmp: f"postgresql://user:secret@127.0.0.1:{_free_port()}/db", "cannot open the database"),
        (lambda tmp: "postgresql+psycopg2://user:secret@127.0.0.1/db", "no postgresql driver is installed"),
        (lambda tmp: "mysql://user:secret@127.0.0.1/db", "no mysql driver is installed"),
    ],
    ids=[
        "sqlite-missing-folder",
        "sqlite-memory",
        "sqlite-memory-path",
        "postgres-not-listening",
        "postgres-no-driver",
        "mysql-no-driver",
    ],
)
def test_a_storage_that_cannot_be_opened_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], storage: Callable[[Path], str], expected: str, mode: str
) -> None:
    url = storage(tmp_path)
    if "psycopg2" in url:
        require(_absent("psycopg2"), "psycopg2 is installed here, so its absence cannot be shown")
    if url.startswith("mysql"):
        require(_absent("MySQLdb"), "a MySQL driver is installed here, so its absence cannot be shown")
    argv = [*SMOKE, "--out", str(tmp_path / "out"), "--storage", url, "--device", "cpu"]
    assert main(argv + ([mode] if mode != "run" else [])) == 2
    line = _one_line_error(capsys.readouterr().err)
    assert expected in line and "secret" not in line
    assert not (tmp_path / "out" / "cache").exists(), "nothing may train before the storage opens"


def _absent(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is None


def test_an_out_that_is_a_file_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    regular = tmp_path / "results"
    regular.write_text("not a folder")
    assert main([*SMOKE, "--out", str(regular), "--device", "cpu"]) == 2
    assert "is a file, not a folder" in _one_line_error(capsys.readouterr().err)
    assert main([*SMOKE, "--out", str(regular / "below"), "--report-only"]) == 2
    assert "cannot be created (Not a directory)" in _one_line_error(capsys.readouterr().err)


def test_a_read_only_out_exits_2_before_training_even_with_storage_elsewhere(
    tmp_path: Path, read_only_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = tmp_path / "elsewhere.journal"
    argv = [*SMOKE, "--out", str(read_only_folder / "runs"), "--storage", str(journal), "--device", "cpu"]
    assert main(argv) == 2
    line = _one_line_error(capsys.readouterr().err)
    assert str(read_only_folder / "runs") in line and "pass a folder you can write to" in line
    assert not journal.exists(), "nothing may be stored before --out is known to be writable"


def test_a_second_ctrl_c_while_the_report_renders_is_one_line_and_keeps_the_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_fake(fake_ledger(None, tmp_path, "smoke"), recording_method(tmp_path / "log"), tmp_path)
    render = reports.render.render_study_dir

    def interrupted_render(*args: Any, **kwargs: Any) -> Path:
        os.kill(os.getpid(), signal.SIGINT)  # the key press lands while the report is being rendered
        time.sleep(5)
        return render(*args, **kwargs)

    monkeypatch.setattr(reports.render, "render_study_dir", interrupted_render)
    # A shell starting the tests in the background leaves SIGINT ignored; the key press needs Python's handler.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        assert main([*SMOKE, "--out", str(tmp_path), "--report-only"]) == 130
    finally:
        signal.signal(signal.SIGINT, previous)
    line = _one_line_error(capsys.readouterr().err)
    assert "interrupted while writing tables and report" in line and "--report-only" in line
    assert (tmp_path / "smoke" / "smoke" / "results.csv").is_file()


# --- the smaller ones --------------------------------------------------------------------------------------------


def test_an_interrupted_run_reports_what_it_finished(tmp_path: Path) -> None:
    with pytest.raises(RunInterrupted) as stopped:
        run_fake(
            fake_ledger(None, tmp_path, "smoke"), recording_method(tmp_path / "log", interrupt={ALL_CELLS[1]}), tmp_path
        )
    summary = stopped.value.summary
    assert summary.completed == ALL_CELLS[:1] and summary.interrupted == ALL_CELLS[1]
    assert summary.unfinished == [ALL_CELLS[1]]


def test_dry_runs_create_no_database_file_and_no_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "trials.db"
    assert main([*SMOKE, "--out", str(tmp_path / "out"), "--storage", f"sqlite:///{database}", "--dry-run"]) == 0
    assert "4 pending" in capsys.readouterr().out
    assert not database.exists() and not (tmp_path / "out").exists()


def test_a_dry_run_on_an_empty_postgres_database_creates_no_tables(
    tmp_path: Path, postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import psycopg

    assert main([*SMOKE, "--out", str(tmp_path), "--storage", postgres_url, "--dry-run"]) == 0
    assert "4 pending" in capsys.readouterr().out
    with psycopg.connect(postgres_url) as connection:
        tables = connection.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
        assert tables.fetchone() == (0,)


def test_a_damaged_image_in_the_generated_synthetic_data_says_how_to_regenerate_it(
    tmp_path: Path, session_cache: Path
) -> None:
    source = DataSource.synthetic(session_cache, small=True)
    pair = source.roots()["sysu"].parent
    copy = tmp_path / pair.name
    shutil.copytree(pair, copy)
    damaged = sorted((copy / "SYSU-MM01").rglob("*.jpg"))[0]
    damaged.write_bytes(b"not an image")
    copied = DataSource.synthetic(tmp_path, small=True)
    copied.roots()  # the cached copy is complete: it is reused, not regenerated
    with pytest.raises(Exception) as raised:
        load_images([damaged], 8, 4, tmp_path / "images")
    hint = copied.explain(raised.value)
    assert hint == f"the file is part of the generated synthetic data: delete {copy} and re-run to regenerate it"
    (copy / "COMPLETE").unlink()  # without its marker the tree reads as real data, which is never regenerated
    assert DataSource.real(copy, tmp_path).explain(raised.value) is None


def test_a_worker_takes_over_the_cell_of_a_peer_that_died_on_another_host(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = fake_ledger(None, tmp_path, "smoke")
    # The peer claimed a cell and then went silent: its host is elsewhere, so only the lease's grace can tell.
    peer = WorkerIdentity("another-host", 4242, time.time())
    assert claim_cell(ledger.study("sysu"), ALL_CELLS[0], FAST_LEASES, peer) is not None
    policy = LeasePolicy(heartbeat_seconds=0.2, grace_seconds=1.5, poll_seconds=0.05, recheck_seconds=0.1)
    with caplog.at_level(logging.INFO, logger="harness"):
        summary = run_fake(ledger, recording_method(tmp_path / "log"), tmp_path, policy=policy)
    assert "waiting for 1 cell(s) held by other workers (full/sysu/seed0)" in caplog.text
    assert sorted(summary.completed) == sorted(ALL_CELLS) and not summary.unfinished
    assert [cell for cell, _ in logged(tmp_path / "log", "done")][-1] == ALL_CELLS[0]


def test_a_worker_reports_a_cell_its_peer_failed_while_it_waited(tmp_path: Path) -> None:
    ledger = fake_ledger(None, tmp_path, "smoke")
    peer = WorkerIdentity("another-host", 4242, time.time())
    study = ledger.study("sysu")
    held = claim_cell(study, ALL_CELLS[0], FAST_LEASES, peer)
    assert held is not None

    def peer_fails() -> None:
        time.sleep(1.0)
        study.tell(held, state=TrialState.FAIL)

    failing = threading.Thread(target=peer_fails)
    failing.start()
    summary = run_fake(ledger, recording_method(tmp_path / "log"), tmp_path)
    failing.join()
    assert summary.failed_elsewhere == [ALL_CELLS[0]] and summary.unfinished == [ALL_CELLS[0]]
    assert ALL_CELLS[0] not in [cell for cell, _ in logged(tmp_path / "log", "start")]
