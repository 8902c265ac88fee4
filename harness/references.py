"""The references a report draws beside a study's variants, each computed once per (dataset, seed, RegDB trial) and
recorded in `<out>/cache/<kind>/<key>.json`, so that every study written to one --out, and every re-run, reuses it:

- the floor: the starting network of the profile evaluated untrained (the `untrained` method);
- the ceiling: the `oracle_labels` reference under the profile's own config (full SCA): stages A and B as configured,
  then stage C on the true identities. It reads the training identities on purpose (a reference, not a method).
  The noise study's oracle_labels cells are recorded in the same store; its r = 0, full-SCA cell is the ceiling.

A record's key (reference_key, the one place keys are made) hashes everything the reference depends on: the method's
source hash (mmm.code_identity), the task fingerprint (training and test image lists, the SYSU gallery draws or the
RegDB trial), the config fields upstream of it, the sha256 of the starting weight file, the forward numerics (device
kind and precision), and for the ceiling the digest of the training identities it reads; the record also keeps the
git commit and dirty flag of the code that made it. Every computation of a reference goes through
ReferenceStore.get — the pass before (floor) or after (ceiling) a study's cells, and the cells of a study's own
`untrained` or `oracle_labels` variants alike — so none is computed twice.

A record keeps the reference's feature sample beside it (`<key>.features.npz`, harness.feature_files, its sha256 in
the record), so the floor's and the ceiling's features are kept and reused like a cell's; a record whose feature file
is gone is served without it.

Like the stage cache, the store only saves time: a record that cannot be read is deleted and recomputed, one that
cannot be written is a logged warning. A reference that cannot be computed at all is a warning too; the study runs
on and its report says the reference is missing. --dry-run and --report-only compute none.
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
from typing import Any, Callable, Mapping, Sequence

import torch

from harness.atomic import atomic_write_text
from harness.cells import TEST, Cell
from harness.feature_files import FeatureFileError, keep_features, read_features
from harness.methods import Method, load_method
from harness.records import jsonable
from harness.runner import CellEnvironment
from mmm.code_identity import code_identity, current_source
from mmm.models.factory import backbone_preset
from mmm.models.numerics import ForwardNumerics
from mmm.models.pretrained import resolve_pretrained
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.hooks import Diagnose, ProgressCallback, StageStore
from mmm.pipeline.result import RunResult
from mmm.pipeline.stage_keys import MMLM_FIELDS, STAGE_B_FIELDS
from mmm.pipeline.tasks import Task

log = logging.getLogger(__name__)

RANDOM_START = "none"  # the weights of a random start, in keys and tables
_KEY_CHARS = 24

# Config fields upstream of the floor: what builds the starting network (backbone, weight choice, seeded
# initialisation, input size) and what evaluates it (SYSU gallery draws, one view or flip-averaged). Training
# fields are not upstream.
FLOOR_FIELDS = ("backbone", "pretrained", "height", "width", "seed", "eval_trials", "eval_flip")
# Config fields the ceiling does not depend on: MMLM's and the choice of stage C's labels (the identities replace
# them), and progress reporting. Every other field is upstream of it.
NOT_UPSTREAM_OF_CEILING = (frozenset(MMLM_FIELDS) - frozenset(STAGE_B_FIELDS)) | {
    "mmlm",
    "alignment_labels",
    "intermediate_eval",
}


def _floor_fields(config: PipelineConfig) -> dict[str, Any]:
    return {name: getattr(config, name) for name in FLOOR_FIELDS}


def _ceiling_fields(config: PipelineConfig) -> dict[str, Any]:
    return {name: value for name, value in config.to_dict().items() if name not in NOT_UPSTREAM_OF_CEILING}


def _no_identities(task: Any) -> dict[str, str]:
    return {}


def _identities_digest(task: Any) -> dict[str, str]:
    # Imported here: --list and --dry-run never compute a reference.
    from mmm.diagnostics.identities import training_identities

    return {"identities": training_identities(task.train).digest()}


@dataclass(frozen=True)
class ReferenceKind:
    """One kind of reference: how it is named, computed and keyed."""

    name: str  # cache folder, table (<name>.csv) and provenance key
    label: str  # its row in the report and in log lines
    method: str  # the registered method that computes it; that method's cells are served by the store
    record_stage: str  # the stage name of a cell served from its record
    upstream: Callable[[PipelineConfig], dict[str, Any]]  # the config fields it depends on
    task_inputs: Callable[[Any], dict[str, str]]  # what it reads of the task beyond its fingerprint
    after_cells: bool  # computed after the study's cells (they share its stages A and B) rather than before


FLOOR = ReferenceKind("floor", "untrained floor", "untrained", "floor", _floor_fields, _no_identities, False)
CEILING = ReferenceKind(
    "ceiling", "identity-label ceiling", "oracle_labels", "oracle_labels", _ceiling_fields, _identities_digest, True
)
REFERENCE_KINDS = (FLOOR, CEILING)


def reference_cache_dir(stage_cache: Path, kind: ReferenceKind) -> Path:
    """Reference records live in the stage cache of the output folder, shared by every study written there."""
    return stage_cache / kind.name


def starting_weights(config: PipelineConfig) -> str:
    """sha256 of the config's starting weight file, or "none" for a random start; PretrainedError when the
    choice cannot be resolved (the cells would fail the same way)."""
    weights = resolve_pretrained(config.pretrained, backbone_preset(config.backbone).imagenet, config.backbone)
    return RANDOM_START if weights is None else weights.sha256


def reference_inputs(
    kind: ReferenceKind, config: PipelineConfig, task: Task, weights: str, numerics: str
) -> dict[str, Any]:
    """Everything a reference of `kind` depends on, as recorded beside it and hashed into its key; `numerics` is
    mmm.models.numerics.ForwardNumerics.key (device kind and precision)."""
    return {
        "reference": kind.name,
        # A record made by other code is never reused: any change to the method's source is another key.
        "code": current_source(),
        "task": task.fingerprint,
        "weights": weights,
        "numerics": numerics,
        "config": kind.upstream(config),
        **kind.task_inputs(task),
    }


def reference_key(kind: ReferenceKind, config: PipelineConfig, task: Task, weights: str, numerics: str) -> str:
    """The hex key of the `kind` reference of `config` on `task`, from the weight file `weights`, run with
    `numerics`."""
    payload = json.dumps(reference_inputs(kind, config, task, weights, numerics), sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:_KEY_CHARS]


@dataclass
class ReferenceStats:
    """What a store did in this process: references computed, served from their records, records found unreadable
    (deleted and recomputed) and records that could not be written."""

    computed: int = 0
    reused: int = 0
    corrupt: int = 0
    unwritten: int = 0

    def as_dict(self) -> dict[str, int]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Reference:
    key: str
    weights: str  # sha256 of the starting weight file, or "none"
    result: RunResult
    reused: bool  # served from its record rather than computed now


class ReferenceStore:
    """Records of one kind of reference on files under `root`; `method` computes a missing one (the kind's
    registered method, imported on first need, unless a test passes its own)."""

    def __init__(self, root: Path, kind: ReferenceKind, method: Method | None = None) -> None:
        self.root = Path(root)
        self.kind = kind
        self.stats = ReferenceStats()
        self._method = method

    def path(self, key: str) -> Path:
        return self.root / f"{key}.json"

    def get(
        self,
        config: PipelineConfig,
        task: Task,
        *,
        device: torch.device,
        cache_dir: Path,
        store: StageStore | None = None,
        on_progress: ProgressCallback | None = None,
        diagnose: Diagnose | None = None,
    ) -> Reference:
        """The reference of `config` on `task`: from its record when there is one, else computed (with the stage
        store and the diagnostics the caller gives) and recorded."""
        weights = starting_weights(config)
        numerics = ForwardNumerics.of(device, config.precision).key
        key = reference_key(self.kind, config, task, weights, numerics)
        stored = self._load(key)
        if stored is not None:
            self.stats.reused += 1
            return Reference(key, weights, stored, reused=True)
        method = self._method if self._method is not None else load_method(self.kind.method)
        self._method = method
        result = method(
            config, task, device=device, cache_dir=cache_dir, store=store, on_progress=on_progress, diagnose=diagnose
        )
        self.stats.computed += 1
        self._save(key, reference_inputs(self.kind, config, task, weights, numerics), task, result)
        return Reference(key, weights, result, reused=False)

    def serve(
        self,
        config: PipelineConfig,
        task: Task,
        *,
        device: torch.device,
        cache_dir: Path,
        store: StageStore | None = None,
        on_progress: ProgressCallback | None = None,
        diagnose: Diagnose | None = None,
    ) -> RunResult:
        """The kind's method as a study's cells run it (a Method): the reference, and when it came from its record,
        the load time as the kind's record stage, marked cached."""
        started = time.perf_counter()
        reference = self.get(
            config, task, device=device, cache_dir=cache_dir, store=store, on_progress=on_progress, diagnose=diagnose
        )
        if not reference.reused:
            return reference.result
        # Imported here: the pipeline module pulls in the training code, which --list and --dry-run never need.
        from mmm.pipeline.stage_runner import report_evaluation

        report_evaluation(reference.result.metrics, on_progress)
        seconds = {self.kind.record_stage: time.perf_counter() - started}
        return dataclasses.replace(reference.result, stage_seconds=seconds, cached_stages=[self.kind.record_stage])

    def _load(self, key: str) -> RunResult | None:
        path = self.path(key)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as error:
            log.warning(
                "%s record %s cannot be read (%s); it will be recomputed", self.kind.name, path, error.strerror or error
            )
            return None
        try:
            result, features = _decode(text, key)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            log.warning(
                "%s record %s is unreadable (%s); deleting it, it will be recomputed", self.kind.name, path, error
            )
            path.unlink(missing_ok=True)
            self.stats.corrupt += 1
            return None
        if not features:  # a task that keeps no features (a tuning search's validation task)
            return result
        try:
            return dataclasses.replace(result, features=read_features(self.root, features))
        except FeatureFileError as error:
            # The metrics still stand: the reference is served without its feature sample (a report line says so).
            log.warning("%s record %s is served without its features: %s", self.kind.name, path, error)
            return result

    def _save(self, key: str, inputs: dict[str, Any], task: Task, result: RunResult) -> None:
        # The feature sample beside the record, like a cell's beside its tables; a task that keeps none leaves none.
        features = keep_features(self.root, f"{key}.features.npz", result.features) if result.features else {}
        record = {
            "key": key,
            "code": code_identity().as_dict(),
            "inputs": {"task_name": task.name, **inputs},
            "result": {
                "metrics": result.metrics,
                "trial_metrics": result.trial_metrics,
                "epochs": result.epochs,
                "stage_seconds": result.stage_seconds,
                "model_digest": result.model_digest,
                "weights": result.weights,
            },
            "features": features,
        }
        path = self.path(key)
        try:
            atomic_write_text(path, json.dumps(jsonable(record), indent=1, sort_keys=True) + "\n")
        except OSError as error:
            self.stats.unwritten += 1
            log.warning(
                "%s record %s could not be written (%s); it is kept for this run only",
                self.kind.name,
                path,
                error.strerror or error,
            )


def _decode(text: str, key: str) -> tuple[RunResult, dict[str, Any]]:
    """The record's result, and its feature record (harness.feature_files; empty when it kept none)."""
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
    result = RunResult(
        metrics=metrics,
        trial_metrics=trials,
        epochs=[dict(epoch) for epoch in stored.get("epochs", [])],
        stage_seconds=dict(stored["stage_seconds"]),
        model_digest=str(stored["model_digest"]),
        weights=stored["weights"],
    )
    return result, dict(record.get("features", {}))


@dataclass(frozen=True)
class ReferenceUnit:
    """What one reference is computed for within a study: the cells sharing a dataset, seed, RegDB trial and the
    split they are scored on (a tuning search's cells train without the validation ids and score those)."""

    dataset: str
    seed: int
    regdb_trial: int | None
    scored_on: str = TEST

    def describe(self) -> str:
        trial = f" trial {self.regdb_trial}" if self.regdb_trial is not None else ""
        scored = f" (scored on {self.scored_on})" if self.scored_on != TEST else ""
        return f"{self.dataset} seed {self.seed}{trial}{scored}"


@dataclass(frozen=True)
class ReferenceOutcome:
    """The reference of one unit, or why there is none (`error`)."""

    unit: ReferenceUnit
    config: PipelineConfig | None = None
    reference: Reference | None = None
    error: str | None = None


@dataclass
class ReferenceRun:
    """A study run's references of one kind and the store that served them (for provenance)."""

    store: ReferenceStore
    outcomes: list[ReferenceOutcome] = field(default_factory=list)


def reference_units(cells: Sequence[Cell]) -> list[ReferenceUnit]:
    """The distinct (dataset, seed, RegDB trial) of `cells`, in their order."""
    return list(dict.fromkeys(ReferenceUnit(c.dataset, c.seed, c.regdb_trial, c.scored_on) for c in cells))


def compute_references(
    cells: Sequence[Cell],
    env: CellEnvironment,
    store: ReferenceStore,
    base: Mapping[str, Mapping[str, Any]] | None = None,
) -> ReferenceRun:
    """The reference of every unit the cells use, under the study's profile (its config without any variant's
    changes) with `base`'s fields of the unit's dataset (a --params file's, which every cell starts from), with the
    cells' stage store and diagnostics. A reference that fails is logged and recorded as missing; an interrupt
    propagates."""
    kind = store.kind
    run = ReferenceRun(store)
    if not cells:
        return run
    for unit in reference_units(cells):
        cell = Cell(
            cells[0].study,
            kind.name,
            kind.method,
            unit.dataset,
            unit.seed,
            unit.regdb_trial,
            scored_on=unit.scored_on,
            overrides=dict((base or {}).get(unit.dataset, {})),
        )
        config = None
        started = time.perf_counter()
        try:
            config = env.make_config(cell, {})
            task = env.make_task(cell, config)
            reference = store.get(
                config,
                task,
                device=torch.device(env.device),
                cache_dir=env.cache_dir,
                store=env.store,
                diagnose=env.make_diagnose(task),
            )
        except Exception as error:
            message = "".join(traceback.format_exception_only(error)).strip()
            log.warning(
                "%s of %s could not be computed (%s); the study runs on and its report says it is missing",
                kind.label,
                unit.describe(),
                message,
                exc_info=log.isEnabledFor(logging.DEBUG),
            )
            run.outcomes.append(ReferenceOutcome(unit, config, error=message))
            continue
        how = "from its record" if reference.reused else f"computed in {time.perf_counter() - started:.1f} s"
        log.info("%s of %s: %s", kind.label, unit.describe(), how)
        run.outcomes.append(ReferenceOutcome(unit, config, reference))
    missing = sum(outcome.reference is None for outcome in run.outcomes)
    log.info(
        "%s: %d computed, %d from records, %d missing (records in %s)",
        kind.label,
        store.stats.computed,
        store.stats.reused,
        missing,
        store.root,
    )
    return run
