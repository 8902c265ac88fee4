"""The lease of a running claim: a background thread stamping the trial every few seconds and watching for a
later claim of the same cell (which means this worker stalled past the grace and lost its lease)."""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType

import optuna

from harness.queue.bookkeeping import HEARTBEAT
from harness.queue.claims import LeasePolicy, superseded
from harness.queue.journal import StorageLost
from harness.queue.storage import root_cause

log = logging.getLogger(__name__)


class Heartbeat:
    """Context manager: beats while the block runs; `lost` is set once another worker has taken the cell."""

    def __init__(self, study: optuna.Study, trial: optuna.Trial, cell_id: str, policy: LeasePolicy) -> None:
        self._study = study
        self._trial = trial
        self._cell_id = cell_id
        self._policy = policy
        self._stop = threading.Event()
        self.lost = threading.Event()
        # Set when the storage's file went away: the cell cannot be recorded, so the run should stop at once.
        self.storage_lost: StorageLost | None = None
        self._thread = threading.Thread(target=self._beat, name=f"heartbeat {cell_id}", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        # Stop before the caller finishes the trial: a finished trial rejects further attribute writes.
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._stop.wait(self._policy.heartbeat_seconds):
            try:
                self._trial.set_user_attr(HEARTBEAT, time.time())
                if superseded(self._trial.number, self._cell_id, self._study.get_trials(deepcopy=False)):
                    log.warning("cell %s was claimed by another worker after this one went silent", self._cell_id)
                    self.lost.set()
                    return
            except StorageLost as error:
                self.storage_lost = error
                return
            except Exception as error:  # a storage hiccup must not kill the run; the next beat retries
                log.warning(
                    "heartbeat of cell %s failed (%s); the next beat retries",
                    self._cell_id,
                    root_cause(error),
                    exc_info=log.isEnabledFor(logging.DEBUG),
                )
