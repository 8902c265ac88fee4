"""Opening the Optuna storage a study's workers share: a journal file by default (several processes on one
disk, or a shared one), or a database URL (SQLite, PostgreSQL, MySQL) through optuna's RDBStorage.

Commands that only read (dry run, report) open it read-only: nothing is created or written — no journal or
SQLite file, no tables, no study records. Anything that keeps the storage from opening is a StorageError whose
one-line message says what is wrong and what to do.
"""

from __future__ import annotations

import errno
import logging
import re
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy
from optuna.exceptions import StorageInternalError
from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from harness.errors import SetupError
from harness.queue.journal import (
    RepairingJournalBackend,
    SnapshotJournalBackend,
    StorageLost,
    file_identity,
    repair_journal,
    scan_journal,
)
from harness.redact import redact

log = logging.getLogger(__name__)

JOURNAL_NAME = "optuna.journal"
VALID_FORMS = (
    "a journal file path ending in .journal",
    "sqlite:///PATH",
    "postgresql://USER:PASSWORD@HOST/DB",
    "mysql://USER:PASSWORD@HOST/DB",
)
# Seconds a winning claim waits and re-checks on servers where a trial number can become visible after a
# later one (concurrent transactions); a single-row insert commits well within this.
SERVER_SETTLE_SECONDS = 2.0
# Workers started together on a new database race to create its tables; the losers retry once the winner's
# schema is committed.
SCHEMA_ATTEMPTS = 5
_RDB = re.compile(r"^(sqlite|postgresql|mysql)(\+\w+)?://")
# Tables every Optuna database has once a study was stored in it.
_OPTUNA_TABLES = ("studies", "version_info", "alembic_version")
_DRIVER_HINTS = {
    "postgresql": "install the PostgreSQL driver: pip install -e '.[postgres]' (psycopg 3)",
    "mysql": "install a MySQL driver, e.g. pip install mysqlclient",
}


# What only a storage raises after opening: a dropped connection or a server gone away (SQLAlchemy's errors, which
# Optuna wraps in StorageInternalError), a file removed from under it (StorageLost).
LOST_STORAGE: tuple[type[Exception], ...] = (StorageLost, SQLAlchemyError, StorageInternalError)
# What a storage raises when it fails while cells run: the above, and a full disk under a journal (OSError).
STORAGE_FAILURES: tuple[type[Exception], ...] = (OSError, *LOST_STORAGE)


class StorageURLError(SetupError, ValueError):
    """A --storage value the harness cannot use; the message lists the accepted forms or the fix."""


class StorageError(SetupError):
    """The storage could not be opened or written: unreachable server, missing driver, unwritable file."""


@dataclass(frozen=True)
class StorageSpec:
    """Where trials live, parsed but not opened."""

    url: str  # the journal path or the database URL
    journal: Path | None  # set for journal files
    settle_seconds: float

    @property
    def display(self) -> str:
        """The location without a password, for logs and provenance."""
        return redact(self.url)

    @property
    def dialect(self) -> str:
        return "journal" if self.journal is not None else self.url.split(":", 1)[0].split("+", 1)[0]

    def failure_line(self, error: BaseException) -> str:
        """The one line for this storage failing after it opened: which storage, what went wrong, what to do."""
        cause = root_cause(error)
        if isinstance(error, StorageLost) or isinstance(_innermost(error), StorageLost):
            return (
                f"--storage {self.display}: {cause}; put it back (or remount its disk) and re-run the same command "
                "to resume, or re-run with another --storage: the stage cache keeps the finished cells' stages"
            )
        if self.dialect in ("journal", "sqlite"):
            return (
                f"--storage {self.display} failed while cells ran ({cause}); the cells finished before are stored "
                "there: free space or fix the file, then re-run the same command to resume"
            )
        return (
            f"--storage {self.display}: the database server stopped answering while cells ran ({cause}); start it "
            "again (or check the network) and re-run the same command: the cells finished before are stored "
            "there and the re-run resumes"
        )

    def open(self, *, read_only: bool = False) -> BaseStorage | None:
        """The storage; read-only, None when nothing has been stored there yet."""
        if self.journal is not None:
            return _open_journal(self.journal, read_only)
        try:
            return _open_database(self.url, read_only)
        except ImportError as error:
            hint = _DRIVER_HINTS.get(self.dialect, "install the database driver the URL names")
            missing = error.__cause__ or error  # optuna wraps the driver's own ImportError in a generic one
            raise StorageError(
                f"--storage {self.display}: no {self.dialect} driver is installed ({missing}); {hint}"
            ) from None
        except SQLAlchemyError as error:
            raise StorageError(
                f"--storage {self.display}: cannot open the database: {root_cause(error)}; "
                "check that the server runs and the URL is right"
            ) from None


def _innermost(error: BaseException) -> BaseException:
    """The exception at the bottom of `error`'s chain (Optuna wraps the driver's error in its own)."""
    seen = {id(error)}
    while True:
        inner = error.__cause__ or error.__context__
        if inner is None or id(inner) in seen:
            return error
        seen.add(id(inner))
        error = inner


def root_cause(error: BaseException) -> str:
    """The first line of the innermost error (the driver's or the file system's own words), passwords masked."""
    inner = _innermost(error)
    if isinstance(inner, OSError) and inner.strerror:
        text = f"{inner.strerror}: {inner.filename}" if inner.filename else inner.strerror
    else:
        text = str(inner)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return redact(lines[0] if lines else type(inner).__name__)


def _open_journal(journal: Path, read_only: bool) -> BaseStorage | None:
    if read_only:
        if not journal.exists():
            return None
        try:
            scan = scan_journal(journal.read_bytes())
        except OSError as error:
            raise StorageError(f"--storage {journal}: cannot read it ({error.strerror})") from None
        if scan.damaged:
            log.warning(
                "%s holds %d torn record(s) (%d bytes): read without them; the next run sets them aside",
                journal,
                len(scan.torn),
                scan.torn_bytes,
            )
        return JournalStorage(SnapshotJournalBackend(scan.records, journal))
    try:
        journal.parent.mkdir(parents=True, exist_ok=True)
        repair = repair_journal(journal)
        storage = JournalStorage(RepairingJournalBackend(journal))
    except OSError as error:
        raise StorageError(
            f"--storage {journal}: cannot open it for writing ({error.strerror or error}); "
            "free space or pick a writable place"
        ) from None
    if repair is not None:
        log.warning("%s", repair.describe())
    return storage


def _open_database(url: str, read_only: bool) -> BaseStorage | None:
    if read_only:
        if url.startswith("sqlite") and not Path(_sqlite_path(url)).exists():
            return None
        engine = sqlalchemy.create_engine(url)
        try:
            tables = set(sqlalchemy.inspect(engine).get_table_names())
        finally:
            engine.dispose()
        if not set(_OPTUNA_TABLES) <= tables:
            return None
        return RDBStorage(url, skip_table_creation=True)
    attempt = 1
    while True:
        try:
            storage = RDBStorage(url)
            if url.startswith("sqlite"):
                _watch_file(storage, Path(_sqlite_path(url)))
            return storage
        except DBAPIError:
            if attempt == SCHEMA_ATTEMPTS:
                raise
            time.sleep(0.2 * attempt)
            attempt += 1


def _watch_file(storage: RDBStorage, path: Path) -> None:
    """Stop every statement once the SQLite file is removed or replaced: an open connection would go on writing
    into the removed file, and every cell finished after that would vanish with it."""
    identity = file_identity(path)

    def check(*_: object) -> None:
        if file_identity(path) != identity:
            raise StorageLost(
                errno.ENOENT, "the SQLite database file was removed or replaced while cells ran", str(path)
            )

    sqlalchemy.event.listen(storage.engine, "before_cursor_execute", check)


def _sqlite_path(url: str) -> str:
    """The file of a sqlite:/// URL ("" for the in-memory forms)."""
    path = url.split("://", 1)[1]
    path = path[1:] if path.startswith("/") else path
    return path.split("?", 1)[0]


def parse_storage(url: str | None, study_dir: Path) -> StorageSpec:
    """The storage named by --storage, or the default journal file `<study_dir>/optuna.journal`."""
    if url is None:
        path = study_dir / JOURNAL_NAME
        return StorageSpec(str(path), path, 0.0)
    match = _RDB.match(url)
    if match and match.group(1) == "sqlite":
        _check_sqlite(url)
        return StorageSpec(url, None, 0.0)
    if match:
        return StorageSpec(url, None, SERVER_SETTLE_SECONDS)
    if url.endswith(".journal") and "://" not in url:
        return StorageSpec(url, Path(url), 0.0)
    raise StorageURLError(f"cannot open storage {redact(url)!r}; use one of: {'; '.join(VALID_FORMS)}")


def _check_sqlite(url: str) -> None:
    path = _sqlite_path(url)
    if path in ("", ":memory:") or "mode=memory" in url:
        raise StorageURLError(
            f"--storage {url}: an in-memory SQLite database lives and dies with one process, so workers cannot "
            "share it and nothing is kept; use sqlite:///PATH (a file) or a journal file"
        )
    folder = Path(path).parent
    if not folder.is_dir():
        raise StorageURLError(f"--storage {url}: folder {folder} does not exist; create it or use another path")
