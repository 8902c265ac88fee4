"""Cheap stand-ins for the pipeline, for tests of the harness's own cell logic (claims, resume, workers).

A fake method logs "start CELL PID" / "done CELL PID" lines to a file opened with O_APPEND (one write per line, so
lines from several processes never interleave) and returns made-up metrics. Run as a module it is a worker
process: `python -m tests.harness.fakes --storage URL --log FILE [...]`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Collection, Mapping, Protocol

import numpy as np
import psutil
import torch

from harness.cells import VALIDATION, Cell, plan_cells
from harness.data_source import DataSource
from harness.methods import METHOD_NAMES, Method
from harness.queue import LeasePolicy, Ledger, WorkerIdentity, parse_storage
from harness.registry import load_study
from harness.run_key import RunKey
from harness.runner import CellEnvironment, RunSummary, run_cells
from harness.spec import StudySpec
from harness.stage_cache import FileStageStore
from harness.weights import cells_starting_weights, weights_identity
from mmm.choices import METRICS, VALIDATION_PROTOCOLS
from mmm.data.validation import validation_identity
from mmm.evaluation.feature_space import FeatureSample
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.hooks import Diagnose, ProgressCallback, ProgressEvent, StageStore
from mmm.pipeline.result import RunResult

PROTOCOLS = {"sysu": ("all", "indoor"), "regdb": ("v2i", "i2v")}
FAST_LEASES = LeasePolicy(heartbeat_seconds=0.2, grace_seconds=30.0, poll_seconds=0.05, recheck_seconds=0.1)


class TaskLike(Protocol):
    """What the harness reads of a task (the methods the fakes stand in for take a mmm.pipeline.tasks.Task)."""

    name: str
    fingerprint: str


@dataclass(frozen=True)
class FakeTask:
    name: str
    fingerprint: str
    held_out: tuple[int, ...] = ()
    rule: str = ""
    protocols: tuple[str, ...] = ()  # what the fake method reports; () for the dataset's test protocols


def fake_task(cell: Cell) -> FakeTask:
    """A search trial's task scores validation protocols on held-out ids; any other cell's the test protocols."""
    if cell.scored_on == VALIDATION:
        protocols = VALIDATION_PROTOCOLS[cell.dataset]
        return FakeTask(cell.id, f"fingerprint-{cell.dataset}-validation", (1, 2), "fake rule", protocols)
    return FakeTask(cell.id, f"fingerprint-{cell.dataset}", protocols=PROTOCOLS[cell.dataset])


def append_line(path: Path, line: str) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, f"{line}\n".encode())
    finally:
        os.close(descriptor)


def dead_process_identity() -> WorkerIdentity:
    """An identity on this host whose process has exited (and been reaped): a killed worker."""
    process = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    started = psutil.Process(process.pid).create_time()
    process.communicate()  # lets it exit, then reaps it
    return WorkerIdentity(WorkerIdentity.current().host, process.pid, started)


def log_lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def logged(path: Path, event: str) -> list[tuple[str, int]]:
    """(cell id, pid) of every `event` ("start" or "done") line, in order."""
    return [(cell, int(pid)) for kind, cell, pid in (line.split(" ") for line in log_lines(path)) if kind == event]


def recording_method(
    log_path: Path,
    *,
    sleep: float = 0.0,
    fail: Collection[str] = (),
    interrupt: Collection[str] = (),
    block: Collection[str] = (),
    map_values: Callable[[int], float] | None = None,
    score: Callable[[PipelineConfig], float] | None = None,
) -> Method:
    """A method that logs each run; raises for cells in `fail`, KeyboardInterrupt for `interrupt`, and sleeps
    for ten minutes in `block` cells (to be killed). `map_values(call)` gives the intermediate mAP it reports,
    `score(config)` every final metric (default: 40 + memories + seed)."""
    calls = 0

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
        nonlocal calls
        calls += 1
        append_line(log_path, f"start {task.name} {os.getpid()}")
        if task.name in interrupt:
            raise KeyboardInterrupt
        if task.name in fail:
            raise RuntimeError(f"planned failure of {task.name}")
        if task.name in block:
            time.sleep(600)
        cached = []
        if store is not None and store.load("dcl", f"k{config.seed}") is not None:
            cached.append("dcl")
        elif store is not None:
            store.save("dcl", f"k{config.seed}", {"seed": config.seed})
        for epoch in range(2):
            values = {"loss": 1.0 / (epoch + 1)}
            if map_values is not None:
                values["mAP"] = map_values(calls)
            if on_progress is not None:
                on_progress(ProgressEvent("sca", epoch, 2, values))
        time.sleep(sleep)
        append_line(log_path, f"done {task.name} {os.getpid()}")
        value = score(config) if score is not None else 40.0 + config.memories + config.seed
        protocols = getattr(task, "protocols", ()) or PROTOCOLS[config.dataset]
        validation = getattr(task, "held_out", ())
        return RunResult(
            features=None if validation else fake_features(task.name),
            metrics={p: {m: value for m in METRICS} for p in protocols},
            # Two evaluation trials one point either side of the mean.
            trial_metrics={p: {t: {m: value - 1.0 + 2 * t for m in METRICS} for t in (0, 1)} for p in protocols},
            epochs=[{"stage": "sca", "epoch": e, "loss": 1.0 / (e + 1), "diag": {"ari": 0.5}} for e in range(2)],
            stage_seconds={"dcl": 0.01, "sca": 0.02},
            cached_stages=cached,
        )

    return method


def fake_features(name: str) -> FeatureSample:
    """A tiny feature sample (three identities, two images per modality) whose values depend on `name`."""
    rows = np.random.default_rng(list(name.encode())).normal(size=(12, 4))
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return FeatureSample(
        rows.astype(np.float16),
        np.repeat(np.tile([3, 5, 8], 2), 2),
        np.repeat([0, 1], 6).astype(np.int8),
        np.repeat([1, 3], 6).astype(np.int16),
    )


def fake_environment(
    method: Method, cache_dir: Path, store: FileStageStore | None = None, tables_dir: Path | None = None
) -> CellEnvironment:
    def make_config(cell: Cell, params: Mapping[str, Any]) -> PipelineConfig:
        return PipelineConfig(dataset=cell.dataset, seed=cell.seed).with_overrides(**cell.overrides, **params)

    return CellEnvironment(
        methods={name: method for name in METHOD_NAMES},
        make_config=make_config,
        make_task=lambda cell, config: fake_task(cell),
        make_diagnose=lambda task: None,
        device="cpu",
        cache_dir=cache_dir,
        store=store,
        tables_dir=tables_dir,
    )


def profile_weights(spec: StudySpec, profile: str) -> str:
    """The starting-weights part of the run key the command line uses for `spec` under `profile` (no
    --pretrained): resolved the same way, without downloading."""
    cells = plan_cells(spec, profile, datasets=spec.datasets)
    return weights_identity(cells_starting_weights(spec, profile, cells, {}, download=False))


def synthetic_key(spec: StudySpec, profile: str) -> RunKey:
    """The run key the command line uses for `spec` on the built-in synthetic data under `profile`."""
    source = DataSource.synthetic(Path("unused"), small=profile == "smoke")
    validation = validation_identity() if spec.is_tuning else None
    return RunKey(profile, source.identity(spec.datasets), profile_weights(spec, profile), validation=validation)


def fake_ledger(
    storage_url: str | None,
    out: Path,
    study: str,
    profile: str = "smoke",
    *,
    key: RunKey | None = None,
    read_only: bool = False,
) -> Ledger:
    spec = load_study(study)
    key = key or synthetic_key(spec, profile)
    return Ledger(parse_storage(storage_url, out / study), spec, key, read_only=read_only)


def run_fake(
    ledger: Ledger,
    method: Method,
    out: Path,
    *,
    seeds: int | None = None,
    policy: LeasePolicy = FAST_LEASES,
    me: WorkerIdentity | None = None,
    tables_dir: Path | None = None,
) -> RunSummary:
    cells = planned(ledger, seeds)
    env = fake_environment(method, out / "data", FileStageStore(out / "cache"), tables_dir)
    return run_cells(cells, ledger, env, policy=policy, me=me or WorkerIdentity.current())


def planned(ledger: Ledger, seeds: int | None = None) -> list[Cell]:
    spec = ledger.spec
    return plan_cells(spec, ledger.profile, datasets=spec.datasets, seeds=range(seeds) if seeds else None)


def _worker(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--storage", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--study", default="memories")
    parser.add_argument("--seeds", type=int)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--block", nargs="*", default=())
    parser.add_argument("--host", help="claim cells as if from this host (a peer on another machine)")
    parser.add_argument("--grace", type=float, default=FAST_LEASES.grace_seconds, help="lease grace, seconds")
    args = parser.parse_args(argv)
    ledger = fake_ledger(args.storage, args.out, args.study)
    here = WorkerIdentity.current()
    me = WorkerIdentity(args.host, here.pid, here.started) if args.host else here
    policy = dataclasses.replace(FAST_LEASES, grace_seconds=args.grace)
    summary = run_fake(
        ledger,
        recording_method(args.log, sleep=args.sleep, block=args.block),
        args.out,
        seeds=args.seeds,
        policy=policy,
        me=me,
    )
    return 1 if summary.unfinished else 0


if __name__ == "__main__":
    sys.exit(_worker(sys.argv[1:]))
