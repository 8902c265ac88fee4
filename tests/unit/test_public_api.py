"""The public API: every name each package exports resolves to the object its module defines, mmm re-exports the
same objects, each package imports alone in a fresh interpreter (no import cycle), and importing mmm or its light
modules loads no torch."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import mmm

PACKAGES = (
    "mmm.alignment",
    "mmm.clustering",
    "mmm.data",
    "mmm.diagnostics",
    "mmm.evaluation",
    "mmm.features",
    "mmm.matching",
    "mmm.memory",
    "mmm.models",
    "mmm.pipeline",
)
ROOT = Path(__file__).resolve().parents[2]


def _fresh_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name", ("mmm", *PACKAGES))
def test_every_exported_name_resolves_to_an_object_of_the_package(name: str) -> None:
    package = importlib.import_module(name)
    assert package.__all__ and len(set(package.__all__)) == len(package.__all__)
    for exported in package.__all__:
        value = getattr(package, exported)
        # A name shadowed by the module of the same name would hand out the module.
        assert not isinstance(value, ModuleType), exported
        assert exported in dir(package)


def test_mmm_reexports_the_objects_its_packages_export() -> None:
    owners = {
        name: importlib.import_module(package)
        for package in PACKAGES
        for name in importlib.import_module(package).__all__
    }
    for name in mmm.__all__:
        if name in owners:
            assert getattr(mmm, name) is getattr(owners[name], name), name
    assert {
        "run_pipeline",
        "PipelineConfig",
        "profile_config",
        "read_sysu",
        "read_regdb",
        "sysu_task",
        "regdb_task",
        "evaluate_sysu",
        "evaluate_regdb",
        "jaccard_distance",
        "dbscan_labels",
        "multi_memory_match",
        "sca_losses",
        "SCAWeights",
        "SCAForm",
        "create_backbone",
        "Method",
    } <= set(mmm.__all__)


def test_an_unknown_name_is_an_attribute_error_and_a_module_still_imports_by_name() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        getattr(mmm, "nothing")
    from mmm.clustering import overlap

    assert isinstance(overlap, ModuleType)


@pytest.mark.parametrize("name", PACKAGES)
def test_each_package_imports_alone(name: str) -> None:
    done = _fresh_python(f"import {name} as p\nfor n in p.__all__: getattr(p, n)")
    assert done.returncode == 0, done.stderr


def test_mmm_and_its_light_modules_import_without_torch() -> None:
    done = _fresh_python(
        "import sys, mmm, mmm.choices, mmm.pipeline.config, mmm.pipeline.method, mmm.data.datasets\n"
        "mmm.PipelineConfig, mmm.DATASETS, mmm.Method, mmm.read_sysu\n"
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    assert done.returncode == 0, done.stderr
