"""The journal file read tolerantly: torn records are told apart from whole ones, set aside in a backup by a
writer under the lock, and skipped (without any write) by a reader."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend

from harness.queue.journal import (
    TORN_SUFFIX,
    RepairingJournalBackend,
    SnapshotJournalBackend,
    repair_journal,
    scan_journal,
)

A = b'{"op_code":0,"worker_id":"w","study_name":"a","directions":[2]}\n'
B = b'{"op_code":0,"worker_id":"w","study_name":"b","directions":[2]}\n'
C = b'{"op_code":0,"worker_id":"w","study_name":"c","directions":[2]}\n'


def _backups(journal: Path) -> list[Path]:
    return sorted(journal.parent.glob(f"{journal.name}{TORN_SUFFIX}*"))


def test_a_whole_journal_has_no_torn_records() -> None:
    scan = scan_journal(A + B)
    assert scan.records == (A, B) and not scan.damaged and scan.clean_prefix == len(A + B)


def test_a_torn_last_record_is_told_apart_from_the_whole_ones() -> None:
    scan = scan_journal(A + B[:20])
    assert scan.records == (A,) and scan.torn == (B[:20],) and scan.clean_prefix == len(A)


def test_a_record_appended_onto_a_torn_one_is_kept() -> None:
    # What Optuna's own writer does after a tear: the next record lands on the partial line.
    scan = scan_journal(A + B[:20] + C + A)
    assert scan.records == (A, C, A) and scan.torn == (B[:20],)


def test_a_whole_last_record_that_lost_only_its_newline_is_whole() -> None:
    scan = scan_journal(A + B[:-1])
    assert scan.records == (A, B) and not scan.damaged


def test_bytes_that_are_not_text_are_torn() -> None:
    scan = scan_journal(A + b"\xff\xfe garbage\n" + B)
    assert scan.records == (A, B) and scan.torn == (b"\xff\xfe garbage\n",)


def test_repair_cuts_a_torn_tail_in_place_and_backs_it_up(tmp_path: Path) -> None:
    journal = tmp_path / "optuna.journal"
    journal.write_bytes(A + B + C[:30])
    inode = journal.stat().st_ino
    repair = repair_journal(journal)
    assert repair is not None and repair.pieces == 1 and repair.torn_bytes == 30 and repair.records == 2
    assert journal.read_bytes() == A + B and journal.stat().st_ino == inode
    assert [p.read_bytes() for p in _backups(journal)] == [C[:30] + b"\n"]
    assert "set aside a torn record (30 bytes)" in repair.describe()
    assert repair_journal(journal) is None


def test_repair_rewrites_a_journal_damaged_in_the_middle(tmp_path: Path) -> None:
    journal = tmp_path / "optuna.journal"
    journal.write_bytes(A + B[:25] + C + A)
    repair = repair_journal(journal)
    assert repair is not None and repair.records == 3
    assert journal.read_bytes() == A + C + A
    assert [p.read_bytes() for p in _backups(journal)] == [B[:25] + b"\n"]


def test_repair_gives_a_whole_last_record_its_newline_without_a_backup(tmp_path: Path) -> None:
    journal = tmp_path / "optuna.journal"
    journal.write_bytes(A + B[:-1])
    assert repair_journal(journal) is None
    assert journal.read_bytes() == A + B and not _backups(journal)


def test_an_append_after_a_torn_tail_sets_the_tail_aside_first(tmp_path: Path) -> None:
    journal = tmp_path / "optuna.journal"
    storage = JournalStorage(RepairingJournalBackend(journal))
    optuna.create_study(storage=storage, study_name="first")
    whole = journal.read_bytes()
    with journal.open("ab") as handle:
        handle.write(b'{"op_code":4,"worker_id":"x"')  # a writer cut short
    optuna.create_study(storage=storage, study_name="second")
    lines = journal.read_bytes().splitlines(keepends=True)
    assert journal.read_bytes().startswith(whole) and all(json.loads(line) for line in lines)
    assert [p.read_bytes() for p in _backups(journal)] == [b'{"op_code":4,"worker_id":"x"\n']
    reread = JournalStorage(JournalFileBackend(str(journal)))
    assert sorted(s.study_name for s in reread.get_all_studies()) == ["first", "second"]


def test_a_snapshot_reads_whole_records_and_refuses_to_write(tmp_path: Path) -> None:
    storage = JournalStorage(SnapshotJournalBackend([A, B], tmp_path / "optuna.journal"))
    assert sorted(s.study_name for s in storage.get_all_studies()) == ["a", "b"]
    with pytest.raises(PermissionError, match="open for reading only"):
        optuna.create_study(storage=storage, study_name="c")
