"""The default storage's journal file (Optuna's format: one JSON record per line), read and written so that a
damaged record never locks a study out.

A record can be cut short: a full disk, or a writer killed mid-write. Optuna's own backend then appends the next
record onto the partial line, and from that line on every read fails. Here:

- a writer holds the journal's lock, sets a torn tail aside in a backup file `<journal>.torn-<time>` and cuts it
  off before it appends (so nothing is ever appended onto a partial line);
- opening the journal for writing repairs the whole file the same way: each line that is not a whole record is
  set aside, and a whole record a writer appended onto a torn one is kept;
- opening it for reading only (dry run, report) reads the same whole records from memory and changes nothing.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generator, Iterable, Iterator

from optuna.storages.journal import BaseJournalBackend, JournalFileBackend, JournalFileSymlinkLock

from harness.atomic import atomic_write_bytes

log = logging.getLogger(__name__)

# Every record Optuna writes starts with its operation code.
_RECORD_START = b'{"op_code":'
TORN_SUFFIX = ".torn-"


@dataclass(frozen=True)
class JournalScan:
    """A journal's bytes sorted into whole records and the bytes that are not (torn records)."""

    records: tuple[bytes, ...]  # whole records, each ending in a newline
    torn: tuple[bytes, ...]  # the damaged pieces, in file order
    clean_prefix: int  # bytes at the start of the file that are whole records, untouched

    @property
    def damaged(self) -> bool:
        return bool(self.torn)

    @property
    def torn_bytes(self) -> int:
        return sum(len(piece) for piece in self.torn)


def _is_record(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:  # JSONDecodeError, and UnicodeDecodeError for bytes that are not UTF-8
        return False


def _split_damaged(line: bytes) -> tuple[bytes, bytes]:
    """(torn piece, whole record appended onto it) of a line that is not a whole record; the record may be empty."""
    start = line.find(_RECORD_START, 1)
    while start != -1:
        if _is_record(line[start:]):
            return line[:start], line[start:]
        start = line.find(_RECORD_START, start + 1)
    return line, b""


def scan_journal(data: bytes) -> JournalScan:
    records: list[bytes] = []
    torn: list[bytes] = []
    clean_prefix = 0
    for line in data.splitlines(keepends=True):
        # A last line without its newline is a record cut short, or a whole one cut just before the newline.
        whole = line if line.endswith(b"\n") else line + b"\n"
        if _is_record(whole):
            records.append(whole)
            if not torn and whole is line:
                clean_prefix += len(line)
            continue
        piece, record = _split_damaged(line)
        torn.append(piece)
        if record:
            records.append(record if record.endswith(b"\n") else record + b"\n")
    return JournalScan(tuple(records), tuple(torn), clean_prefix)


@dataclass(frozen=True)
class Repair:
    """What repairing a journal did, for the one line that reports it."""

    journal: Path
    backup: Path
    torn_bytes: int
    pieces: int
    records: int

    def describe(self) -> str:
        what = "a torn record" if self.pieces == 1 else f"{self.pieces} torn records"
        return (
            f"{self.journal}: set aside {what} ({self.torn_bytes} bytes) in {self.backup.name}; "
            f"{self.records} whole records kept"
        )


@contextmanager
def _locked(path: Path) -> Iterator[JournalFileSymlinkLock]:
    lock = JournalFileSymlinkLock(str(path))
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()


def _backup_path(journal: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%S")
    candidate = journal.with_name(f"{journal.name}{TORN_SUFFIX}{stamp}")
    number = 1
    while candidate.exists():
        number += 1
        candidate = journal.with_name(f"{journal.name}{TORN_SUFFIX}{stamp}-{number}")
    return candidate


def _append_newline(journal: Path) -> None:
    with open(journal, "ab") as handle:
        handle.write(b"\n")
        handle.flush()
        os.fsync(handle.fileno())


def repair_journal(journal: Path) -> Repair | None:
    """Set aside every torn record of `journal` under its lock; None when nothing was torn (or it is absent)."""
    if not journal.exists():
        return None
    with _locked(journal):
        data = journal.read_bytes()
        scan = scan_journal(data)
        if not scan.damaged:
            if data and not data.endswith(b"\n"):
                _append_newline(journal)  # a whole last record that lost only its newline
            return None
        backup = _backup_path(journal)
        atomic_write_bytes(backup, b"\n".join(scan.torn) + b"\n")
        clean = b"".join(scan.records)
        if len(clean) == scan.clean_prefix:
            # Only the tail was torn: cutting it off needs no free space and leaves every earlier byte in place.
            os.truncate(journal, scan.clean_prefix)
        else:
            atomic_write_bytes(journal, clean)
        return Repair(journal, backup, scan.torn_bytes, len(scan.torn), len(scan.records))


class StorageLost(OSError):
    """The file behind an open storage (a journal or a SQLite database) was removed or replaced while the study
    ran, or its disk went away: nothing more can be written to it."""


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the file at `path`, None when there is none."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_dev, info.st_ino


class RepairingJournalBackend(JournalFileBackend):
    """Optuna's file backend whose appends first set aside a torn tail, under the same lock as the append, and
    which stops (StorageLost) once the journal it wrote to is removed or replaced: appending would start a new file
    holding none of the study's earlier records."""

    def __init__(self, journal: Path) -> None:
        self._journal = Path(journal)
        super().__init__(str(journal))  # creates the file when there is none
        self._identity = file_identity(self._journal)

    def read_logs(self, log_number_from: int) -> Generator[dict[str, Any], None, None]:
        self._check_same_file()
        yield from super().read_logs(log_number_from)

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        payload = "".join(json.dumps(entry, separators=(",", ":")) + "\n" for entry in logs).encode("utf-8")
        with _locked(self._journal):
            self._check_same_file()
            self._cut_torn_tail()
            with open(self._journal, "ab") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())

    def _check_same_file(self) -> None:
        if self._identity is not None and file_identity(self._journal) != self._identity:
            raise StorageLost(
                errno.ENOENT,
                "the journal was removed or replaced while cells ran (or its disk went away)",
                str(self._journal),
            )

    def _cut_torn_tail(self) -> None:
        size = self._journal.stat().st_size
        if size == 0:
            return
        with open(self._journal, "rb") as handle:
            handle.seek(size - 1)
            if handle.read(1) == b"\n":
                return
            start = _last_line_start(handle, size)
            handle.seek(start)
            tail = handle.read()
        if _is_record(tail):
            _append_newline(self._journal)
            return
        backup = _backup_path(self._journal)
        atomic_write_bytes(backup, tail + b"\n")
        os.truncate(self._journal, start)
        log.warning(
            "%s: set aside a torn record (%d bytes) in %s before appending", self._journal, len(tail), backup.name
        )


def _last_line_start(handle: Any, size: int, chunk: int = 64 * 1024) -> int:
    """Byte offset just after the last newline before `size` (0 when there is none)."""
    end = size
    while end > 0:
        begin = max(0, end - chunk)
        handle.seek(begin)
        block = handle.read(end - begin)
        cut = block.rfind(b"\n")
        if cut != -1:
            return begin + cut + 1
        end = begin
    return 0


class SnapshotJournalBackend(BaseJournalBackend):
    """The whole records of a journal read once into memory, for commands that only read: appending is refused."""

    def __init__(self, records: Iterable[bytes], journal: Path) -> None:
        self._records = [json.loads(record) for record in records]
        self._journal = journal

    def read_logs(self, log_number_from: int) -> Iterator[dict[str, Any]]:
        yield from self._records[log_number_from:]

    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        raise PermissionError(f"{self._journal} is open for reading only; this command must not write to it")
