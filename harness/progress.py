"""What a person watching a run sees: tqdm bars over cells and over the current cell's stage epochs when stderr
is a terminal, one log line per cell otherwise (CI logs, files)."""

from __future__ import annotations

import logging
from types import TracebackType

from tqdm import tqdm

from harness.cells import Cell
from mmm.pipeline.hooks import ProgressEvent

log = logging.getLogger(__name__)


class Display:
    def __init__(self, total: int, done: int, *, bars: bool) -> None:
        self._bars = bars
        self._cells = tqdm(total=total, initial=done, desc="cells", unit="cell", disable=not bars, leave=True)
        self._stage = tqdm(total=0, desc="", unit="ep", disable=not bars, leave=False, position=1)
        self._stage_name = ""

    def __enter__(self) -> "Display":
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._stage.close()
        self._cells.close()

    def cell_started(self, cell: Cell) -> None:
        self._stage_name = ""
        self._cells.set_postfix_str(cell.id)
        if not self._bars:
            log.info("cell %s: started", cell.id)

    def event(self, event: ProgressEvent) -> None:
        if not self._bars:
            return
        if event.stage != self._stage_name:
            self._stage_name = event.stage
            self._stage.reset(total=event.epochs)
            self._stage.set_description(f"stage {event.stage}")
        self._stage.n = event.epoch + 1
        shown = {k: f"{v:.3g}" for k, v in list(event.values.items())[:4]}
        self._stage.set_postfix(shown, refresh=True)

    def cell_finished(self, cell: Cell, outcome: str, seconds: float) -> None:
        self._cells.update(1)
        log.info("cell %s: %s in %.1f s", cell.id, outcome, seconds)

    def cell_settled_elsewhere(self, cell: Cell, outcome: str) -> None:
        """A cell this worker waited for was finished (or failed) by another worker."""
        self._cells.update(1)
        log.info("cell %s: %s by another worker", cell.id, outcome)
