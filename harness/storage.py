"""Opening the Optuna storage a study's workers share: a journal file by default (several processes on one
disk, or a shared one), or a database URL (SQLite, PostgreSQL, MySQL) through optuna's RDBStorage."""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

from optuna.storages import BaseStorage, JournalStorage, RDBStorage
from optuna.storages.journal import JournalFileBackend
from sqlalchemy.exc import DBAPIError

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


class StorageURLError(ValueError):
    """A --storage value the harness cannot open; the message lists the accepted forms."""


@dataclass(frozen=True)
class StorageSpec:
    """Where trials live, parsed but not opened (a dry run reads a missing journal as empty)."""

    url: str  # the journal path or the database URL
    journal: Path | None  # set for journal files
    settle_seconds: float

    @property
    def display(self) -> str:
        """The location without a password, for logs and provenance."""
        return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", self.url)

    def exists(self) -> bool:
        return self.journal is None or self.journal.exists()

    def open(self) -> BaseStorage:
        if self.journal is not None:
            self.journal.parent.mkdir(parents=True, exist_ok=True)
            return JournalStorage(JournalFileBackend(str(self.journal)))
        attempt = 1
        while True:
            try:
                return RDBStorage(self.url)
            except DBAPIError:
                if attempt == SCHEMA_ATTEMPTS:
                    raise
                time.sleep(0.2 * attempt)
                attempt += 1


def parse_storage(url: str | None, study_dir: Path) -> StorageSpec:
    """The storage named by --storage, or the default journal file `<study_dir>/optuna.journal`."""
    if url is None:
        path = study_dir / JOURNAL_NAME
        return StorageSpec(str(path), path, 0.0)
    match = _RDB.match(url)
    if match:
        return StorageSpec(url, None, 0.0 if match.group(1) == "sqlite" else SERVER_SETTLE_SECONDS)
    if url.endswith(".journal") and "://" not in url:
        return StorageSpec(url, Path(url), 0.0)
    raise StorageURLError(f"cannot open storage {url!r}; use one of: {'; '.join(VALID_FORMS)}")
