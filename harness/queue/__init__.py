"""The cell queue: which cells of a study are missing, claiming one so that workers sharing a storage never run
the same cell twice, holding it under a heartbeat lease while it runs, and finishing it — all kept as Optuna
trials in a storage (a journal file or a database) that the workers share.

Code outside this package imports from here only; the modules inside are its workings:

- where the trials live: `parse_storage` -> `StorageSpec`, `StorageError` when it cannot be opened,
  `STORAGE_FAILURES` when it fails later (`LOST_STORAGE` what only a storage raises, `StorageSpec.failure_line`
  the one line that says so), `JOURNAL_NAME` the default journal file;
- who works, and how long a silent worker keeps its cells: `WorkerIdentity`, `LeasePolicy`;
- which cells are missing: `Ledger.statuses` -> `CellStatus` with a `CellState` (a cell finished by other code
  is stale; `code_of` reads the code identity a trial's worker ran);
- claim one: `claim_cell`, then hold it with `Heartbeat` while it runs;
- finish it: `complete_cell`, `prune_cell`, `fail_cell`, or `drop_claim` when another worker took it over.
"""

from harness.queue.bookkeeping import code_of
from harness.queue.claims import LeasePolicy, WorkerIdentity, claim_cell
from harness.queue.finish import complete_cell, drop_claim, fail_cell, prune_cell
from harness.queue.heartbeat import Heartbeat
from harness.queue.ledger import Ledger
from harness.queue.status import CellState, CellStatus
from harness.queue.storage import (
    JOURNAL_NAME,
    LOST_STORAGE,
    STORAGE_FAILURES,
    StorageError,
    StorageSpec,
    parse_storage,
)

__all__ = [
    "JOURNAL_NAME",
    "LOST_STORAGE",
    "STORAGE_FAILURES",
    "CellState",
    "CellStatus",
    "Heartbeat",
    "LeasePolicy",
    "Ledger",
    "StorageError",
    "StorageSpec",
    "WorkerIdentity",
    "claim_cell",
    "code_of",
    "complete_cell",
    "drop_claim",
    "fail_cell",
    "parse_storage",
    "prune_cell",
]
