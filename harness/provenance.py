"""provenance.json: what produced a study's tables — command, code identity (this command's, and every one found
in the tables' runs), library versions, device and its CPU threads, data, profile, wall time and the stage cache's
hits — so a report can say where its numbers come from, plus what the report needs from the spec (description,
reference variant, variants' published ablation rows).

Keys are flat; reports/provenance.py and reports/context.py read them by these names."""

from __future__ import annotations

import importlib.metadata
import json
import platform
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import torch

from harness.atomic import atomic_write_text
from harness.queue import CellState, CellStatus, code_of
from harness.spec import StudySpec
from mmm.code_identity import CodeIdentity, code_identity

PROVENANCE_NAME = "provenance.json"
# provenance.json key: the code of this command and the code identities of the runs in the tables.
CODE_PROVENANCE = "code"


def package_version(name: str) -> str:
    for distribution in (name, f"{name}-cpu", f"{name}-gpu-cu12"):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            continue
    return "absent"


def device_name(device: str) -> str:
    if device.startswith("cuda") and torch.cuda.is_available():
        return torch.cuda.get_device_name(torch.device(device))
    return platform.processor() or platform.machine() or "cpu"


def collect_provenance(
    *,
    argv: Sequence[str],
    spec: StudySpec,
    profile: str,
    device: str,
    data_source: str,
    data_roots: Mapping[str, str | None],
    storage: str,
    wall_seconds: float,
    cache: Mapping[str, Any],
    cells: Mapping[str, int],
) -> dict[str, Any]:
    return {
        "command": " ".join(["python", "-m", "harness.study", *argv]),
        "git_commit": code_identity().commit,
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "faiss": package_version("faiss"),
            "optuna": package_version("optuna"),
        },
        "device": f"{device} ({device_name(device)})",
        # Training's floating-point sums depend on how torch splits them over threads, and a stage-C run amplifies
        # the difference: the same seed gives other numbers at another thread count (README, "Threads").
        "cpu_threads": torch.get_num_threads(),
        "data_source": data_source,
        "data_roots": dict(data_roots),
        "profile": profile,
        "wall_seconds": round(wall_seconds, 3),
        "cache": dict(cache),
        "study_description": spec.description,
        "reference_variant": spec.reference,
        "variant_rows": {v.name: v.paper_row for v in spec.variants if v.paper_row},
        "feature_variants": [v.name for v in spec.variants if v.feature_space],
        "storage": storage,
        "cells": dict(cells),
        "platform": platform.platform(),
    }


def write_provenance(study_dir: Path, provenance: Mapping[str, Any]) -> Path:
    path = study_dir / PROVENANCE_NAME
    atomic_write_text(path, json.dumps(provenance, indent=2, sort_keys=True) + "\n")
    return path


def code_provenance(current: CodeIdentity, statuses: Iterable[CellStatus]) -> dict[str, Any]:
    """The code this command ran and, per code identity found in the finished runs its tables hold, how many
    runs it made and whether they are stale (kept results of other code)."""
    found: dict[tuple[Any, ...], dict[str, Any]] = {}
    for status in statuses:
        if status.state is not CellState.DONE or status.trial is None:
            continue
        code = code_of(status.trial)
        record = code.as_dict() if code is not None else {"source": None, "commit": None, "dirty": None}
        entry = found.setdefault(tuple(record.values()), {**record, "runs": 0, "stale": status.stale})
        entry["runs"] += 1
    return {"current": current.as_dict(), "results": list(found.values())}
