"""The methods a study can run, by name, imported only when a study needs them.

Every method is a mmm.pipeline.method.Method:
    method(config, task, *, device, cache_dir, store=None, on_progress=None, diagnose=None) -> RunResult
"""

from __future__ import annotations

import importlib
from typing import Iterable

from mmm.pipeline.method import Method

# name -> "module:function"; imported lazily so a study that needs only MMM runs even while a baseline's module
# is missing or broken.
METHOD_PATHS: dict[str, str] = {
    "mmm": "mmm.pipeline.run:run_pipeline",
    "dcl": "baselines.dcl:run_dcl",
    "centroid_hungarian": "baselines.centroid_hungarian:run_centroid_hungarian",
    "untrained": "baselines.untrained:run_untrained",
    # References that read the training identities on purpose (mmm.choices.REFERENCE_METHODS).
    "oracle_labels": "baselines.oracle_labels:run_oracle_labels",
    "oracle_matching": "baselines.oracle_matching:run_oracle_matching",
}
METHOD_NAMES = tuple(METHOD_PATHS)


def load_method(name: str) -> Method:
    """Import and return the method called `name`; an unknown name is an error listing the valid ones."""
    if name not in METHOD_PATHS:
        raise KeyError(f"unknown method {name!r}; valid: {list(METHOD_NAMES)}")
    module_name, function_name = METHOD_PATHS[name].split(":")
    return getattr(importlib.import_module(module_name), function_name)


def load_methods(names: Iterable[str]) -> dict[str, Method]:
    """The methods a set of cells uses, by name."""
    return {name: load_method(name) for name in sorted(set(names))}
