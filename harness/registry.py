"""Finding studies by name: every public module of the `studies` package that defines SPEC is one study."""

from __future__ import annotations

import importlib
import pkgutil

import studies
from harness.spec import StudyError, StudySpec, validate_spec


def list_studies() -> list[str]:
    """Names of the studies, sorted."""
    return sorted(m.name for m in pkgutil.iter_modules(studies.__path__) if not m.name.startswith("_"))


def load_study(name: str) -> StudySpec:
    """The validated spec of study `name`; an unknown name is a StudyError listing the valid ones."""
    valid = list_studies()
    if name not in valid:
        raise StudyError(f"unknown study {name!r}; valid: {', '.join(valid)}")
    module = importlib.import_module(f"studies.{name}")
    spec = getattr(module, "SPEC", None)
    if not isinstance(spec, StudySpec):
        raise StudyError(f"studies/{name}.py must define SPEC = StudySpec(...)")
    if spec.name != name:
        raise StudyError(f"studies/{name}.py declares SPEC.name {spec.name!r}; it must match the module name")
    validate_spec(spec)
    return spec
