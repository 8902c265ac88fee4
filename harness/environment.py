"""The real CellEnvironment: configs from the pipeline's profiles, tasks from the data source, the methods a
study uses (an `untrained` or `oracle_labels` variant served by its reference store), ground-truth diagnostics and
the file stage cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.cells import Cell
from harness.data_source import DataSource
from harness.methods import load_methods
from harness.references import ReferenceStore
from harness.runner import CellEnvironment
from harness.spec import StudySpec
from harness.stage_cache import FileStageStore
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.hooks import Diagnose


def cell_config(
    spec: StudySpec,
    profile: str,
    cell: Cell,
    params: Mapping[str, Any] | None = None,
    run_overrides: Mapping[str, Any] | None = None,
) -> PipelineConfig:
    """A cell's config: the profile's, then the study's per-profile fields, the command's (e.g. --pretrained),
    the variant's and the search's, in that order of precedence."""
    from mmm.pipeline.profiles import profile_config

    overrides = {
        **spec.plan(profile).overrides,
        **(run_overrides or {}),
        **cell.overrides,
        **(params or {}),
        "seed": cell.seed,
    }
    return profile_config(profile, cell.dataset, **overrides)


def build_environment(
    spec: StudySpec,
    profile: str,
    cells: list[Cell],
    data: DataSource,
    *,
    device: str,
    store: FileStageStore,
    run_overrides: Mapping[str, Any] | None = None,
    references: Sequence[ReferenceStore] = (),
    tables_dir: Path | None = None,
) -> CellEnvironment:
    # Imported here, not at the top: the diagnostics pull in scikit-learn (a second to import), which --list,
    # --dry-run and usage errors do not need.
    from mmm.diagnostics.pseudo_labels import make_diagnose

    def make_config(cell: Cell, params: Mapping[str, Any]) -> PipelineConfig:
        return cell_config(spec, profile, cell, params, run_overrides)

    def diagnose_for(task: Any) -> Diagnose | None:
        return make_diagnose(task.train)

    methods = load_methods(cell.method for cell in cells)
    for reference in references:
        if reference.kind.method in methods:
            # An `untrained` cell is the floor of its config, an `oracle_labels` cell a ceiling (noisy, in the noise
            # study): computed once per --out, shared with the reference passes.
            methods[reference.kind.method] = reference.serve

    return CellEnvironment(
        methods=methods,
        make_config=make_config,
        make_task=data.task,
        make_diagnose=diagnose_for,
        device=device,
        cache_dir=data.cache_dir,
        store=store,
        explain=data.explain,
        tables_dir=tables_dir,
    )


def stage_cache_dir(out_dir: Path) -> Path:
    """One stage cache per output folder, shared by every study written there."""
    return out_dir / "cache"
