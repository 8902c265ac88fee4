"""The untrained-backbone floor of a study: the starting network of its profile evaluated without training, once per
(dataset, seed, RegDB trial) and starting weights, recorded in `<out>/cache/floor/<key>.json` so that every study
written to one --out, and every re-run, reuses it.

A record's key hashes everything the floor depends on: the task fingerprint (training and test image lists, the
SYSU gallery draws or the RegDB trial), the config fields that build the starting network and evaluate it, the
sha256 of the starting weight file and the method's source hash (mmm.code_identity); the record also keeps the
git commit and dirty flag of the code that made it. Every untrained evaluation goes through FloorStore.floor — the
floor pass before a study's cells and the cells of a study's own `untrained` variant alike — so none is computed
twice.

Like the stage cache, the store only saves time: a record that cannot be read is deleted and recomputed, one that
cannot be written is a logged warning. A floor that cannot be computed at all is a warning too; the study runs
on and its report says the floor is missing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import torch

from harness.atomic import atomic_write_text
from harness.cells import Cell
from harness.methods import Method, load_method
from harness.records import jsonable
from harness.runner import CellEnvironment, TaskLike
from mmm.code_identity import code_identity, current_source
from mmm.models.factory import backbone_preset
from mmm.models.numerics import ForwardNumerics
from mmm.models.pretrained import resolve_pretrained
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.hooks import Diagnose, ProgressCallback, StageStore
from mmm.pipeline.result import RunResult

log = logging.getLogger(__name__)

# Config fields upstream of the floor: what builds the starting network (backbone, weight choice, seeded
# initialisation, input size) and what evaluates it (SYSU gallery draws, one view or flip-averaged). Training
# fields are not upstream.
FLOOR_FIELDS = ("backbone", "pretrained", "height", "width", "seed", "eval_trials", "eval_flip")
# The stage name under which a floor served from its record appears in a cell's stage times.
FLOOR_STAGE = "floor"
FLOOR_METHOD = "untrained"
RANDOM_START = "none"  # the weights of a random start, in keys and tables
_KEY_CHARS = 24


def floor_cache_dir(stage_cache: Path) -> Path:
    """Floor records live in the stage cache of the output folder, shared by every study written there."""
    return stage_cache / "floor"


def starting_weights(config: PipelineConfig) -> str:
    """sha256 of the config's starting weight file, or "none" for a random start; PretrainedError when the
    choice cannot be resolved (the cells would fail the same way)."""
    weights = resolve_pretrained(config.pretrained, backbone_preset(config.backbone).imagenet, config.backbone)
    return RANDOM_START if weights is None else weights.sha256


def floor_key(config: PipelineConfig, fingerprint: str, weights: str, numerics: str) -> str:
    """The hex key of the floor of `config` on the task with `fingerprint`, from the weight file `weights`, run with
    `numerics` (mmm.models.numerics.ForwardNumerics.key: device kind and precision)."""
    payload = json.dumps(
        {
            # A record made by other code is never reused: any change to the method's source is another key.
            "code": current_source(),
            "task": fingerprint,
            "weights": weights,
            "numerics": numerics,
            "config": {name: getattr(config, name) for name in FLOOR_FIELDS},
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:_KEY_CHARS]


@dataclass
class FloorStats:
    """What the store did in this process: floors computed, served from their records, records found unreadable
    (deleted and recomputed) and records that could not be written."""

    computed: int = 0
    reused: int = 0
    corrupt: int = 0
    unwritten: int = 0

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Floor:
    key: str
    weights: str  # sha256 of the starting weight file, or "none"
    result: RunResult
    reused: bool  # served from its record rather than computed now


class FloorStore:
    """Floor records on files under `root`; `untrained` is the method that computes a missing floor (the
    registered `untrained` method, imported on first need, unless a test passes its own)."""

    def __init__(self, root: Path, untrained: Method | None = None) -> None:
        self.root = Path(root)
        self.stats = FloorStats()
        self._untrained = untrained

    def path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def floor(
        self,
        config: PipelineConfig,
        task: TaskLike,
        *,
        device: torch.device,
        cache_dir: Path,
        on_progress: ProgressCallback | None = None,
    ) -> Floor:
        """The floor of `config` on `task`: from its record when there is one, else computed and recorded."""
        weights = starting_weights(config)
        key = floor_key(config, task.fingerprint, weights, ForwardNumerics.of(device, config.precision).key)
        stored = self._load(key)
        if stored is not None:
            self.stats.reused += 1
            return Floor(key, weights, stored, reused=True)
        result = self._method()(config, task, device=device, cache_dir=cache_dir, on_progress=on_progress)
        self.stats.computed += 1
        self._save(key, config, task, weights, result)
        return Floor(key, weights, result, reused=False)

    def run_untrained(
        self,
        config: PipelineConfig,
        task: TaskLike,
        *,
        device: torch.device,
        cache_dir: Path,
        store: StageStore | None = None,
        on_progress: ProgressCallback | None = None,
        diagnose: Diagnose | None = None,
    ) -> RunResult:
        """The `untrained` method as a study's cells run it (a Method): the floor, and when it came from its record,
        the load time as stage "floor", marked cached. `store` and `diagnose` are ignored, as by the method."""
        started = time.perf_counter()
        floor = self.floor(config, task, device=device, cache_dir=cache_dir, on_progress=on_progress)
        if not floor.reused:
            return floor.result
        # Imported here: the pipeline module pulls in the training code, which --list and --dry-run never need.
        from mmm.pipeline.stage_runner import report_evaluation

        report_evaluation(floor.result.metrics, on_progress)
        seconds = {FLOOR_STAGE: time.perf_counter() - started}
        return dataclasses.replace(floor.result, stage_seconds=seconds, cached_stages=[FLOOR_STAGE])

    def _method(self) -> Method:
        if self._untrained is None:
            self._untrained = load_method(FLOOR_METHOD)
        return self._untrained

    def _load(self, key: str) -> RunResult | None:
        path = self.path(key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as error:
            log.warning(
                "floor record %s cannot be read (%s); the floor will be recomputed", path, error.strerror or error
            )
            return None
        try:
            return _decode(text, key)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            log.warning("floor record %s is unreadable (%s); deleting it, the floor will be recomputed", path, error)
            path.unlink(missing_ok=True)
            self.stats.corrupt += 1
            return None

    def _save(self, key: str, config: PipelineConfig, task: TaskLike, weights: str, result: RunResult) -> None:
        record = {
            "key": key,
            "code": code_identity().as_dict(),
            "inputs": {
                "task": task.name,
                "fingerprint": task.fingerprint,
                "weights": weights,
                "config": {name: getattr(config, name) for name in FLOOR_FIELDS},
            },
            "result": {
                "metrics": result.metrics,
                "trial_metrics": result.trial_metrics,
                "stage_seconds": result.stage_seconds,
                "model_digest": result.model_digest,
                "weights": result.weights,
            },
        }
        path = self.path(key)
        try:
            atomic_write_text(path, json.dumps(jsonable(record), indent=1, sort_keys=True) + "\n")
        except OSError as error:
            self.stats.unwritten += 1
            log.warning(
                "floor record %s could not be written (%s); the floor is kept for this run only",
                path,
                error.strerror or error,
            )


def _decode(text: str, key: str) -> RunResult:
    record = json.loads(text)
    if record.get("key") != key:
        raise ValueError(f"a record of key {record.get('key')!r}")
    stored = record["result"]
    metrics = {str(p): {str(m): float(v) for m, v in values.items()} for p, values in stored["metrics"].items()}
    if not metrics:
        raise ValueError("no metrics")
    # JSON keys are text; RunResult numbers its evaluation trials.
    trials = {
        str(p): {int(t): {str(m): float(v) for m, v in values.items()} for t, values in by_trial.items()}
        for p, by_trial in stored["trial_metrics"].items()
    }
    return RunResult(
        metrics=metrics,
        trial_metrics=trials,
        stage_seconds=dict(stored["stage_seconds"]),
        model_digest=str(stored["model_digest"]),
        weights=stored["weights"],
    )


@dataclass(frozen=True)
class FloorUnit:
    """What one floor is computed for within a study: the cells sharing a dataset, seed and RegDB trial."""

    dataset: str
    seed: int
    regdb_trial: int | None

    def describe(self) -> str:
        trial = f" trial {self.regdb_trial}" if self.regdb_trial is not None else ""
        return f"{self.dataset} seed {self.seed}{trial}"


@dataclass(frozen=True)
class FloorOutcome:
    """The floor of one unit, or why there is none (`error`)."""

    unit: FloorUnit
    config: PipelineConfig | None = None
    floor: Floor | None = None
    error: str | None = None


@dataclass
class FloorRun:
    """A study run's floors and the store that served them (for provenance)."""

    store: FloorStore
    outcomes: list[FloorOutcome] = field(default_factory=list)


def floor_units(cells: Sequence[Cell]) -> list[FloorUnit]:
    """The distinct (dataset, seed, RegDB trial) of `cells`, in their order."""
    return list(dict.fromkeys(FloorUnit(c.dataset, c.seed, c.regdb_trial) for c in cells))


def compute_floors(cells: Sequence[Cell], env: CellEnvironment, store: FloorStore) -> FloorRun:
    """The floor of every unit the cells use, under the study's profile (its config without any variant's
    changes). A floor that fails is logged and recorded as missing; an interrupt propagates."""
    run = FloorRun(store)
    if not cells:
        return run
    for unit in floor_units(cells):
        cell = Cell(cells[0].study, "floor", FLOOR_METHOD, unit.dataset, unit.seed, unit.regdb_trial)
        config = None
        started = time.perf_counter()
        try:
            config = env.make_config(cell, {})
            task = env.make_task(cell, config)
            floor = store.floor(config, task, device=torch.device(env.device), cache_dir=env.cache_dir)
        except Exception as error:
            message = "".join(traceback.format_exception_only(error)).strip()
            log.warning(
                "untrained floor of %s could not be computed (%s); the study runs on and its report says "
                "the floor is missing",
                unit.describe(),
                message,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            run.outcomes.append(FloorOutcome(unit, config, error=message))
            continue
        how = "from its record" if floor.reused else f"computed in {time.perf_counter() - started:.1f} s"
        log.info("untrained floor of %s: %s", unit.describe(), how)
        run.outcomes.append(FloorOutcome(unit, config, floor))
    missing = sum(outcome.floor is None for outcome in run.outcomes)
    log.info(
        "untrained floor: %d computed, %d from records, %d missing (records in %s)",
        store.stats.computed,
        store.stats.reused,
        missing,
        store.root,
    )
    return run
