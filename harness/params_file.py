"""The parameters a tuning study chose, as a file any other study can start from (`--params FILE`).

A tuning study writes `best_params.json` beside its tables: per dataset, the searched fields of its best search
trial, chosen on the validation split, with the objective that chose them. `--params FILE` reads the per-dataset
fields back and applies them to every cell of that dataset above the profile's values and below the variant's own
(an ablation still switches off what it ablates); each trial records them with its parameters. The file's
fingerprint is part of the run key, so runs with and without it, or with two different files, never count as each
other's.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from harness.atomic import atomic_write_text
from harness.cells import Cell
from harness.errors import UsageError
from harness.spec import HARNESS_FIELDS
from mmm.choices import DATASETS
from mmm.pipeline.config import PipelineConfig
from reports.schema import SELECTION_FILE

PARAMS_FILE = SELECTION_FILE
FORMAT = "mmm-bench params 1"
# Fields the command line sets with flags of their own (--pretrained, --recipe): a params file may not.
FLAG_FIELDS = {"pretrained": "--pretrained", "recipe": "--recipe"}


class ParamsFileError(UsageError):
    """A --params file that cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class ParamsFile:
    path: Path
    params: Mapping[str, Mapping[str, Any]]  # dataset -> config fields

    @property
    def identity(self) -> str:
        """ "params@<hash>" of the fields themselves (not of the path or the objective that chose them)."""
        payload = json.dumps(self.params, sort_keys=True)
        return "params@" + hashlib.sha256(payload.encode()).hexdigest()[:12]


def write_params_file(path: Path, params: Mapping[str, Mapping[str, Any]], about: Mapping[str, Any]) -> None:
    """Write `params` (dataset -> fields) with `about` (how they were chosen) as a --params file."""
    document = {"format": FORMAT, **about, "params": {dataset: dict(values) for dataset, values in params.items()}}
    atomic_write_text(path, json.dumps(document, indent=2, sort_keys=True) + "\n")


def read_params_file(path: Path) -> ParamsFile:
    """The per-dataset fields of a --params file; ParamsFileError naming the file and what is wrong."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ParamsFileError(f"--params {path}: cannot read it ({error.strerror or error})") from None
    except ValueError as error:
        raise ParamsFileError(f"--params {path}: not valid JSON ({error})") from None
    params = document.get("params") if isinstance(document, dict) else None
    if not isinstance(params, dict) or not params:
        raise ParamsFileError(
            f'--params {path}: expected a JSON object with "params": {{dataset: {{field: value}}}} as a tuning '
            f"study writes it ({PARAMS_FILE})"
        )
    valid = {f.name for f in fields(PipelineConfig)} - HARNESS_FIELDS
    for dataset, values in params.items():
        where = f"--params {path}: params.{dataset}"
        if dataset not in DATASETS:
            raise ParamsFileError(f"{where}: unknown dataset; expected one of {list(DATASETS)}")
        if not isinstance(values, dict):
            raise ParamsFileError(f"{where}: expected an object of config fields, got {type(values).__name__}")
        unknown = sorted(set(values) - valid)
        if unknown:
            raise ParamsFileError(f"{where}: {unknown} are not config fields a study may set")
        flagged = sorted(set(values) & set(FLAG_FIELDS))
        if flagged:
            raise ParamsFileError(f"{where}: set {flagged} with {[FLAG_FIELDS[name] for name in flagged]} instead")
        try:
            PipelineConfig(dataset=dataset).with_overrides(**values)
        except (TypeError, ValueError) as error:
            raise ParamsFileError(f"{where}: {error}") from None
    return ParamsFile(Path(path), {dataset: dict(values) for dataset, values in params.items()})


def with_params(cells: Sequence[Cell], params: ParamsFile) -> list[Cell]:
    """The cells with the file's fields of their dataset under each variant's own."""
    return [replace(cell, overrides={**params.params.get(cell.dataset, {}), **cell.overrides}) for cell in cells]
