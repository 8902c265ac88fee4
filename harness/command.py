"""What `python -m harness.study` does once harness.study has parsed its arguments (and answered --list and
--help by itself): check the data, show the cells (--dry-run), rewrite tables and report from stored trials
(--report-only), or run the missing cells and then write the tables, provenance and report.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import logging
import os
import shutil
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Iterator

import optuna
import torch
from tqdm import tqdm

from harness.cells import Cell, plan_cells
from harness.data_source import DataSource
from harness.environment import build_environment, stage_cache_dir
from harness.errors import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, SetupError, UsageError, report_usage_error
from harness.final_phase import FINAL_FOLDER, FinalPhase, plan_final_phase, selected_params
from harness.output_folder import OutputFolderError, ensure_writable_folder
from harness.params_file import PARAMS_FILE, ParamsFile, read_params_file, with_params, write_params_file
from harness.provenance import CODE_PROVENANCE, PROVENANCE_NAME, code_provenance, collect_provenance, write_provenance
from harness.queue import (
    LOST_STORAGE,
    STORAGE_FAILURES,
    CellState,
    CellStatus,
    LeasePolicy,
    Ledger,
    StorageError,
    StorageSpec,
    WorkerIdentity,
    code_of,
    parse_storage,
)
from harness.records import TASK
from harness.redact import RedactingFilter, redact
from harness.reference_table import keep_current_references, reference_feature_rows, write_reference_table
from harness.references import (
    REFERENCE_KINDS,
    ReferenceRun,
    ReferenceStore,
    compute_references,
    reference_cache_dir,
)
from harness.registry import list_studies, load_study
from harness.results import write_results
from harness.run_key import RunKey
from harness.runner import CellEnvironment, RunInterrupted, RunSummary, run_cells
from harness.spec import StudyError, StudySpec, default_plan
from harness.stage_cache import FileStageStore
from harness.weights import StartingWeights, WeightsError, cells_starting_weights, weights_identity
from mmm.data.validation import validation_identity
from mmm.models.numerics import CUBLAS_WORKSPACE_CONFIG, default_precision
from mmm.paths import default_cache_dir
from mmm.pipeline.profiles import default_recipe

log = logging.getLogger(__name__)

# provenance.json key: the run key's data identity, so --report-only can tell whether it describes this data.
DATA_IDENTITY = "data_identity"
# The run key's weights part when a dry run could not resolve them (matches no stored study).
WEIGHTS_MISSING = "missing"


@dataclass(frozen=True)
class Setup:
    """Everything the command resolved from its arguments."""

    spec: StudySpec
    device: str  # --device, else cuda when available and cpu otherwise
    cells: list[Cell]
    data: DataSource
    storage: StorageSpec
    key: RunKey
    weights: list[StartingWeights]  # every start the cells use (one, unless a variant picks its own)
    weights_missing: str | None  # --dry-run only: why the starting weights could not be resolved
    run_overrides: dict[str, Any]  # config fields the command sets for every cell (--pretrained, --precision, ...)
    ledger: Ledger
    study_dir: Path  # <out>/<study>: the default journal
    results_dir: Path  # <out>/<study>/<key folder>: tables, provenance and report of this run key
    policy: LeasePolicy
    me: WorkerIdentity
    seeds: range | None  # --seeds: replaces the profile's seeds (a tuning study's final phase runs them all)
    params: ParamsFile | None  # --params


def run_command(prog: str, args: argparse.Namespace, argv: list[str]) -> int:
    """Do what the parsed arguments ask (all but --list and --help) and return the exit code; `prog` names the
    command in usage errors."""
    if args.deterministic:
        # cuBLAS reads it once, when it starts: before anything touches CUDA.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE_CONFIG)
    bars = sys.stderr.isatty()
    _configure_logging(bars, args.verbose)
    if args.check_data:
        return _check_data(prog, args, bars)
    try:
        setup = _resolve(args)
        try:
            if args.dry_run:
                return _dry_run(setup)
            # Checked before anything is stored or trained: outputs that cannot be written would waste the run.
            ensure_writable_folder(args.out)
            if args.report_only:
                return _report_only(args, argv, setup)
            return _run(args, argv, setup, bars)
        except LOST_STORAGE as error:  # a read-only command whose storage went away while it read
            raise StorageError(setup.storage.failure_line(error)) from None
    except (UsageError, StudyError, SetupError) as error:
        return report_usage_error(prog, error)


def _resolve(args: argparse.Namespace) -> Setup:
    if args.study is None:
        raise UsageError(f"name a study (valid: {', '.join(list_studies())}) or pass --list")
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: no CUDA device is available here; valid here: cpu")
    spec = load_study(args.study)
    data = _data_source(args)
    datasets = [d for d in spec.datasets if d in data.datasets]
    if not datasets:
        raise UsageError(f"study {spec.name} uses {list(spec.datasets)}; --data-root has only {list(data.datasets)}")
    missing = sorted(set(spec.datasets) - set(datasets))
    if missing:
        log.warning("skipping %s: not found under --data-root", missing)
    if args.profile in ("paper", "release") and data.kind == "synthetic":
        log.warning(
            "the %s profile is meant for the real datasets (--data-root); running it on synthetic data", args.profile
        )
    _check_report_inputs(args)
    seeds = range(args.seeds) if args.seeds else None
    cells = plan_cells(spec, args.profile, datasets=datasets, seeds=seeds)
    params = read_params_file(args.params) if args.params else None
    if params is not None:
        if spec.is_tuning:
            raise UsageError(
                f"--params: study {spec.name} chooses its own parameters; pass its {PARAMS_FILE} to other studies"
            )
        cells = with_params(cells, params)
    run_overrides: dict[str, Any] = {"pretrained": args.pretrained} if args.pretrained else {}
    recipe = None if args.recipe in (None, default_recipe(args.profile)) else args.recipe
    if recipe is not None:
        run_overrides["recipe"] = recipe
    precision = args.precision or default_precision(torch.device(device))
    run_overrides["precision"] = precision
    if args.deterministic:
        run_overrides["deterministic"] = True
    if args.eval_every:
        run_overrides["eval_every"] = args.eval_every
    # Read-only commands check what a run would start from but never download it. A dry run still lists the
    # cells without the weight file (planning a paper-scale study on a machine that lacks it).
    weights_missing = None
    try:
        weights = cells_starting_weights(
            spec, args.profile, cells, run_overrides, download=not (args.dry_run or args.report_only)
        )
    except WeightsError as error:
        if not args.dry_run:
            raise
        weights, weights_missing = [], str(error)
    study_dir = args.out / spec.name
    storage = parse_storage(args.storage, study_dir)
    identity = WEIGHTS_MISSING if weights_missing is not None else weights_identity(weights)
    validation = validation_identity() if spec.is_tuning else None
    key = RunKey(
        args.profile,
        data.identity(datasets),
        identity,
        recipe,
        precision=None if precision == "fp32" else precision,
        validation=validation,
        params=params.identity if params is not None else None,
    )
    return Setup(
        spec=spec,
        device=device,
        cells=cells,
        data=data,
        storage=storage,
        key=key,
        weights=weights,
        weights_missing=weights_missing,
        run_overrides=run_overrides,
        # A tuning study's cells all train with one seed, the one its sampler's seeds derive from.
        ledger=Ledger(
            storage,
            spec,
            key,
            read_only=args.dry_run or args.report_only,
            seed=cells[0].seed,
            keep_stale=args.keep_stale,
        ),
        study_dir=study_dir,
        results_dir=study_dir / key.folder,
        policy=LeasePolicy(settle_seconds=storage.settle_seconds),
        me=WorkerIdentity.current(),
        seeds=seeds,
        params=params,
    )


def _check_report_inputs(args: argparse.Namespace) -> None:
    """Read the files the report will read besides the study's own tables (--benchmark-json) now, before
    anything trains: a broken one would otherwise show only once every cell has finished."""
    if args.benchmark_json is None:
        return
    # Imported here: pandas is not needed by runs without the option.
    from reports.benchmarks import benchmark_table

    path = args.benchmark_json
    try:
        benchmark_table(path)
    except ValueError as error:
        # The table's errors start with the file's name; this line names the file once, as given.
        problem = str(error).removeprefix(f"{path}: ").removeprefix(f"{path.name}: ")
        raise UsageError(
            f"--benchmark-json {path}: {problem}; expected the file `pytest tests/bench --benchmark-only "
            "--benchmark-json=FILE` writes"
        ) from None


def _data_source(args: argparse.Namespace) -> DataSource:
    cache_dir = default_cache_dir()
    if args.data_root:
        return DataSource.real(args.data_root, cache_dir)
    return DataSource.synthetic(cache_dir, small=args.profile == "smoke")


def _check_data(prog: str, args: argparse.Namespace, bars: bool) -> int:
    # Imported here: only --check-data needs the data check's modules.
    from harness.data_check.command import run_check

    try:
        data = _data_source(args)
        plan = load_study(args.study).plan(args.profile) if args.study else default_plan(args.profile)
    except (StudyError, SetupError) as error:
        return report_usage_error(prog, error)
    return run_check(data.roots(), args.profile, data.cache_dir, plan.regdb_trials, sys.stdout, sys.stderr, bars)


def _configure_logging(bars: bool, verbose: bool) -> None:
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _TqdmHandler)]:
        root.removeHandler(handler)  # main() may run more than once in a process (tests)
    handler = _TqdmHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter("%(message)s" if bars else "%(asctime)s %(levelname)s %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    logging.getLogger("harness").setLevel(logging.DEBUG if verbose else logging.INFO)
    optuna.logging.set_verbosity(logging.WARNING)


class _TqdmHandler(logging.Handler):
    """Writes log lines above the progress bars instead of through them."""

    def emit(self, record: logging.LogRecord) -> None:
        tqdm.write(self.format(record), file=sys.stderr)


def _dry_run(setup: Setup) -> int:
    if setup.weights_missing is not None:
        return _dry_run_without_weights(setup)
    statuses = setup.ledger.statuses(setup.cells, setup.policy, setup.me)
    where = f"{setup.ledger.profile}, {setup.data.kind} data, weights {setup.key.weights}"
    text = _cell_lines(f"{setup.spec.name} ({where})", setup.cells, statuses)
    if setup.spec.is_tuning:
        final = _final_phase(setup)
        if final is None:
            text += "final phase: planned once every search cell is done (the choice and the defaults on test)\n"
        else:
            final_statuses = final.ledger.statuses(final.cells, setup.policy, setup.me)
            text += _cell_lines("final phase (selected on validation, scored on test)", final.cells, final_statuses)
    sys.stdout.write(text + _stale_note(setup, statuses) + _nothing_stored_hint(setup, statuses))
    return EXIT_OK


def _cell_lines(title: str, cells: list[Cell], statuses: dict[str, CellStatus]) -> str:
    summary = ", ".join(f"{n} {label}" for label, n in _state_counts(statuses).items() if n)
    lines = [f"{statuses[c.id].label:<8} {c.id}\n" for c in cells]
    return f"{title}: {len(cells)} cells — {summary}\n" + "".join(lines)


def _final_phase(setup: Setup) -> FinalPhase | None:
    """A tuning study's final phase, once its search is done; None before, and for other studies."""
    if not setup.spec.is_tuning:
        return None
    return plan_final_phase(setup.ledger, setup.cells, setup.ledger.profile, setup.policy, setup.me, setup.seeds)


def _dry_run_without_weights(setup: Setup) -> int:
    """The cells, without their state: which are done is keyed by the weight file's hash, which needs the file."""
    where = f"{setup.ledger.profile}, {setup.data.kind} data"
    header = f"{setup.spec.name} ({where}): {len(setup.cells)} cells, state unknown\n"
    note = f"starting weights missing, so whether any cell is done cannot be told: {setup.weights_missing}\n"
    lines = [f"{'planned':<8} {c.id}\n" for c in setup.cells]
    sys.stdout.write(header + note + "".join(lines))
    return EXIT_OK


def _stale_note(setup: Setup, statuses: dict[str, CellStatus]) -> str:
    """What "stale" means here, when some cell is: which code made those results and which code runs now."""
    stale = [s.trial for s in statuses.values() if s.stale and s.trial is not None]
    if not stale:
        return ""
    made_by = {code.describe() if code else "no recorded identity" for code in map(code_of, stale)}
    fate = "kept (--keep-stale)" if setup.ledger.keep_stale else "a run re-runs them (--keep-stale keeps them)"
    return (
        f"stale: {len(stale)} cell(s) finished by other code ({'; '.join(sorted(made_by))}); this code is "
        f"{setup.me.code.describe()}; {fate}\n"
    )


def _state_counts(statuses: dict[str, CellStatus]) -> dict[str, int]:
    """Cells per state as the dry run and provenance name them (a kept stale result counts as stale)."""
    labels = [state.value for state in CellState]
    return {label: sum(s.label == label for s in statuses.values()) for label in labels}


def _nothing_stored_hint(setup: Setup, statuses: dict[str, CellStatus]) -> str:
    """When nothing is stored for this profile and data source, the Optuna studies that are (a likely typo)."""
    if any(s.state is not CellState.PENDING for s in statuses.values()):
        return ""
    others = [n for n in setup.ledger.stored_study_names() if n.startswith(f"{setup.spec.name}:")]
    return f"(stored runs of this study under other profiles/data: {', '.join(others)})\n" if others else ""


def _report_only(args: argparse.Namespace, argv: list[str], setup: Setup) -> int:
    statuses = setup.ledger.statuses(setup.cells, setup.policy, setup.me)
    hint = _nothing_stored_hint(setup, statuses)
    if all(s.state is CellState.PENDING for s in statuses.values()):
        # Nothing to report under this key: write nothing rather than empty tables beside another key's report.
        log.warning(
            "nothing stored for %s under profile %s on this data; nothing written %s",
            setup.spec.name,
            args.profile,
            hint.strip(),
        )
        return EXIT_OK
    return _finish(args, argv, setup, None, None)


def _provenance_is_current(setup: Setup) -> bool:
    """Whether the results folder's provenance.json describes this run key's data (it is kept, wall time and all)."""
    path = setup.results_dir / PROVENANCE_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8")).get(DATA_IDENTITY) == dict(setup.key.data)
    except (OSError, ValueError, AttributeError):
        return False


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a scheduler stopping the job) ends the run like Ctrl-C: the running cell is recorded as failed."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace, argv: list[str], setup: Setup, bars: bool) -> int:
    started = time.perf_counter()
    setup.ledger.open()
    store = FileStageStore(stage_cache_dir(args.out))
    stores = [ReferenceStore(reference_cache_dir(stage_cache_dir(args.out), kind), kind) for kind in REFERENCE_KINDS]
    try:
        env = build_environment(
            setup.spec,
            args.profile,
            setup.cells,
            setup.data,
            device=setup.device,
            store=store,
            run_overrides=setup.run_overrides,
            references=stores,
            tables_dir=setup.results_dir,
        )
    except ImportError as error:
        log.error("the method is not available (%s); nothing was run", error)
        return EXIT_FAILED
    interrupted = False
    references = [ReferenceRun(reference) for reference in stores]
    final_references: list[ReferenceRun] | None = None
    final: FinalPhase | None = None
    summaries: list[RunSummary] = []
    try:
        with _sigterm_as_interrupt():
            references = _with_references(setup.cells, env, stores, references, after_cells=False, params=setup.params)
            summaries.append(run_cells(setup.cells, setup.ledger, env, policy=setup.policy, me=setup.me, bars=bars))
            references = _with_references(setup.cells, env, stores, references, after_cells=True, params=setup.params)
            final = _final_phase(setup)
            if final is not None:
                log.info("final phase: the search's choice and the defaults, trained on the whole training split")
                final_env = dataclasses.replace(env, tables_dir=setup.results_dir / FINAL_FOLDER)
                final_references = [ReferenceRun(reference) for reference in stores]
                final_references = _with_references(final.cells, final_env, stores, final_references, after_cells=False)
                summaries.append(
                    run_cells(final.cells, final.ledger, final_env, policy=setup.policy, me=setup.me, bars=bars)
                )
                final_references = _with_references(final.cells, final_env, stores, final_references, after_cells=True)
            elif setup.spec.is_tuning:
                log.warning("the final phase starts once every search cell is done: re-run the same command")
    except RunInterrupted as stop:
        interrupted = True
        summaries.append(stop.summary)
        log.warning("interrupted: finished cells are stored; re-run the same command to resume")
    except KeyboardInterrupt:  # while computing a reference, outside the cells
        interrupted = True
        log.warning("interrupted while computing a reference (floor or ceiling); finished cells are stored: re-run")
    except STORAGE_FAILURES as error:
        raise StorageError(setup.storage.failure_line(error)) from None
    code = _finish(args, argv, setup, time.perf_counter() - started, store, references, final_references)
    summary = _merged(summaries)
    _closing_note(setup, summary, store, planned=len(setup.cells) + (len(final.cells) if final is not None else 0))
    if interrupted or code == EXIT_INTERRUPTED:
        return EXIT_INTERRUPTED
    incomplete = setup.spec.is_tuning and len(summaries) < 2
    return EXIT_FAILED if summary.unfinished or incomplete else code


def _with_references(
    cells: list[Cell],
    env: CellEnvironment,
    stores: list[ReferenceStore],
    runs: list[ReferenceRun],
    *,
    after_cells: bool,
    params: ParamsFile | None = None,
) -> list[ReferenceRun]:
    """`runs` with those of the kinds computed before (or after) the cells computed for `cells`: the floor before,
    the ceiling after (it shares the cells' stages A and B); under a --params file's fields, as the cells are."""
    base = params.params if params is not None else None
    return [
        compute_references(cells, env, store, base) if store.kind.after_cells == after_cells else run
        for store, run in zip(stores, runs)
    ]


def _merged(summaries: list[RunSummary]) -> RunSummary:
    """The phases' summaries as one (a tuning study runs a search, then a final phase)."""
    merged = RunSummary()
    for summary in summaries:
        merged.completed += summary.completed
        merged.pruned += summary.pruned
        merged.failed += summary.failed
        merged.already_done += summary.already_done
        merged.done_elsewhere += summary.done_elsewhere
        merged.failed_elsewhere += summary.failed_elsewhere
        merged.held_elsewhere += summary.held_elsewhere
        merged.interrupted = merged.interrupted or summary.interrupted
    return merged


def _finish(
    args: argparse.Namespace,
    argv: list[str],
    setup: Setup,
    seconds: float | None,
    store: FileStageStore | None,
    references: list[ReferenceRun] | None = None,
    final_references: list[ReferenceRun] | None = None,
) -> int:
    """Tables, provenance and report from the stored trials; `seconds`, `store` and `references` are None for
    --report-only, which keeps a current provenance.json (the run's wall time and cache use) and the references'
    tables, and rewrites a stale one. A tuning study's final phase has its tables (and references) in a folder of its
    own."""
    try:
        runs = _write_tables(setup, references)
        _write_final_tables(setup, final_references)
        if seconds is not None or not _provenance_is_current(setup):
            cache = store.stats.as_dict() if store is not None else {}
            provenance = _provenance(args, argv, setup, seconds or 0.0, cache, check_data=seconds is not None)
            for reference in references or []:
                provenance[reference.store.kind.name] = reference.store.stats.as_dict()
            write_provenance(setup.results_dir, provenance)
        return _render(setup, runs, args.benchmark_json)
    except KeyboardInterrupt:
        log.warning(
            "interrupted while writing tables and report; finished cells are stored: run the same command "
            "with --report-only to write them"
        )
        return EXIT_INTERRUPTED
    except LOST_STORAGE as error:  # the storage went away after the last cell, while its trials were read
        raise StorageError(setup.storage.failure_line(error)) from None
    except OSError as error:
        raise OutputFolderError(
            f"--out {args.out}: writing the tables and report failed ({error}); finished cells are stored: free "
            "space or fix the folder, then run the same command with --report-only"
        ) from None


def _write_references(setup: Setup, folder: Path, references: list[ReferenceRun] | None) -> None:
    """The references' tables of this run in `folder`; without a run (--report-only), the tables there keep only
    the rows of this run key's profile and data."""
    if references is not None:
        for reference in references:
            write_reference_table(folder, setup.spec.name, setup.key, reference)
    else:
        for kind in REFERENCE_KINDS:
            keep_current_references(folder, setup.key, kind)


def _write_final_tables(setup: Setup, references: list[ReferenceRun] | None) -> None:
    """A tuning study's final phase: its tables (references' first) in `<results>/final/` and the choice as a
    --params file beside the search's tables. Before the search is done there is no choice; tables of an earlier
    one are removed, since they no longer describe this search."""
    folder = setup.results_dir / FINAL_FOLDER
    final = _final_phase(setup)
    if final is None:
        if setup.spec.is_tuning and folder.exists():
            log.warning("%s described an earlier choice; removed until this search is done", folder)
            shutil.rmtree(folder)
            (setup.results_dir / PARAMS_FILE).unlink(missing_ok=True)
        return
    folder.mkdir(parents=True, exist_ok=True)
    _write_references(setup, folder, references)
    write_results(
        folder, final.ledger, final.cells, setup.policy, setup.me, reference_feature_rows(folder, setup.spec.name)
    )
    about = {
        "study": setup.spec.name,
        "profile": setup.key.profile,
        "data": dict(setup.key.data),
        "selected_on": "validation",
        "validation": setup.key.validation,
        "objective": {dataset: selection.describe() for dataset, selection in final.selections.items()},
    }
    write_params_file(setup.results_dir / PARAMS_FILE, selected_params(final), about)


def _write_tables(setup: Setup, references: list[ReferenceRun] | None) -> int:
    """The references' tables, then the cells' (feature_space.csv holds both)."""
    folder = setup.results_dir
    folder.mkdir(parents=True, exist_ok=True)
    _write_references(setup, folder, references)
    features = reference_feature_rows(folder, setup.spec.name)
    return write_results(folder, setup.ledger, setup.cells, setup.policy, setup.me, features)


def _provenance(
    args: argparse.Namespace,
    argv: list[str],
    setup: Setup,
    seconds: float,
    cache: dict[str, Any],
    check_data: bool = False,
) -> dict[str, Any]:
    statuses = setup.ledger.statuses(setup.cells, setup.policy, setup.me)
    counts = _state_counts(statuses)
    provenance = collect_provenance(
        argv=[redact(arg) for arg in argv],
        spec=setup.spec,
        profile=args.profile,
        device=setup.device,
        data_source=setup.data.kind,
        data_roots=setup.data.known_roots(),
        storage=setup.storage.display,
        wall_seconds=seconds,
        cache=cache,
        cells={"planned": len(setup.cells), **counts},
    )
    provenance[CODE_PROVENANCE] = code_provenance(setup.me.code, statuses.values())
    provenance[DATA_IDENTITY] = dict(setup.key.data)
    provenance["weights"] = [start.as_provenance() for start in setup.weights]
    provenance["precision"] = setup.run_overrides["precision"]
    provenance["deterministic"] = bool(args.deterministic)
    if setup.spec.is_tuning:
        provenance["validation"] = _validation_record(setup, statuses)
    if setup.params is not None:
        provenance["params_file"] = {
            "path": str(setup.params.path),
            "identity": setup.params.identity,
            "params": {dataset: dict(values) for dataset, values in setup.params.params.items()},
        }
    if check_data:
        provenance["data_check"] = _data_verdicts(setup)
    return provenance


def _validation_record(setup: Setup, statuses: dict[str, CellStatus]) -> dict[str, Any]:
    """Per dataset, the validation split the search ran on, as its trials recorded it: the rule and the held-out
    identities."""
    record: dict[str, Any] = {"identity": setup.key.validation}
    for cell in setup.cells:
        trial = statuses[cell.id].trial
        task = trial.user_attrs.get(TASK, {}) if trial is not None else {}
        if cell.dataset not in record and task.get("held_out"):
            record[cell.dataset] = {"task": task["name"], "rule": task.get("rule", ""), "held_out": task["held_out"]}
    return record


def _data_verdicts(setup: Setup) -> dict[str, Any]:
    """Counts and fingerprint of each dataset the cells use, for provenance (and the report's warning)."""
    from harness.data_check.summary import study_verdict

    roots = setup.data.roots()
    names = sorted({cell.dataset for cell in setup.cells})
    verdicts = {name: study_verdict(name, roots[name], functools.partial(setup.data.dataset, name)) for name in names}
    for verdict in verdicts.values():
        for line in verdict["mismatches"]:
            log.warning("data check: %s", line)
    return verdicts


def _render(setup: Setup, runs: int, benchmark_json: Path | None = None) -> int:
    if not runs:
        log.warning("no finished runs yet, so no report; the tables are in %s", setup.results_dir)
        return EXIT_OK
    try:
        # Imported here: plotting libraries take a while to import and --list or --dry-run never need them.
        from reports.render import render_study_dir

        path = render_study_dir(setup.results_dir, benchmark_json=benchmark_json)
    except Exception:  # the tables are written already; a broken report must not hide them
        log.exception("rendering the report of %s failed; the tables are in %s", setup.spec.name, setup.results_dir)
        return EXIT_FAILED
    log.info("report: %s", path)
    return EXIT_OK


def _closing_note(setup: Setup, summary: RunSummary, store: FileStageStore, planned: int) -> None:
    stats = store.stats
    hits = ", ".join(f"{stage} {n}" for stage, n in sorted(stats.hits.items())) or "none"
    elsewhere = len(summary.done_elsewhere) + len(summary.failed_elsewhere) + len(summary.held_elsewhere)
    log.info(
        "%s: %d cells — %d run now, %d pruned, %d done earlier, %d failed, %d interrupted, %d by other workers "
        "(%d done, %d failed, %d still running); stage cache: %d hits (%s), %d misses, %d not written",
        setup.spec.name,
        planned,
        len(summary.completed),
        len(summary.pruned),
        summary.already_done,
        len(summary.failed),
        int(summary.interrupted is not None),
        elsewhere,
        len(summary.done_elsewhere),
        len(summary.failed_elsewhere),
        len(summary.held_elsewhere),
        sum(stats.hits.values()),
        hits,
        sum(stats.misses.values()),
        sum(stats.unwritten.values()),
    )
