"""Package exports imported on first use.

Every package of mmm lists what users call in its `__all__` and imports it only when it is first used. Light code
imports single modules (the harness's study specs read mmm.pipeline.config and mmm.data.datasets, the command line
mmm.choices, all without torch); any such import runs the package __init__s above it, and eager ones would pull
torch and the training code into each.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable, Sequence


def lazy_exports(
    package: str, names: Sequence[str], sources: Sequence[str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module `__getattr__` and `__dir__` for `package`, exporting `names`.

    A name is taken from the first of `sources` (module names, tried in order, so list the cheapest first: those
    before the one that defines a name are imported too) that defines it, by its `__all__` when it has one. A
    name that is also one of the package's modules (mmm.alignment.mmd.mmd) is bound at once: importing that
    module sets the package attribute to the module, so `__getattr__` would never be asked for it.
    """
    exported = frozenset(names)
    module_of = sys.modules[package]

    def __getattr__(name: str) -> Any:
        if name not in exported:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        for source in sources:
            module = importlib.import_module(source)
            if name in getattr(module, "__all__", vars(module)):
                value = getattr(module, name)
                # Kept on the package, so the lookup runs once per name.
                setattr(module_of, name, value)
                return value
        raise AttributeError(f"module {package!r} exports {name!r} but none of {list(sources)} defines it")

    def __dir__() -> list[str]:
        return sorted(set(vars(module_of)) | exported)

    for name in exported:
        if f"{package}.{name}" in sources:
            __getattr__(name)
    return __getattr__, __dir__
