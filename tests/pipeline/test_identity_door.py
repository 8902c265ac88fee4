"""The training identities have one door (mmm.diagnostics.identities.training_identities): nothing else reads
TrainSplit.ground_truth, only the references and the harness's diagnostics import the door, no registered method
other than the references can reach it, and every such method runs through with identities that cannot be read,
while the references stop at once (they read them). The permuted-labels test of MMM is in test_pipeline.py."""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest
import torch

from harness.methods import METHOD_NAMES, METHOD_PATHS, load_method
from mmm.choices import REFERENCE_METHODS
from mmm.data.records import GroundTruth, TrainSplit
from mmm.diagnostics.identities import training_identities
from mmm.pipeline.profiles import profile_config
from mmm.pipeline.tasks import Task

ROOT = Path(__file__).resolve().parents[2]
SOURCE_PACKAGES = ("mmm", "harness", "baselines", "studies", "reports")
DOOR_MODULE = "mmm.diagnostics.identities"
# Who may import the diagnostics package (and so the door): the diagnostics themselves, the harness (ARI and
# matching accuracy of every cell, the data check's counts, the ceiling's record key) and the references.
MAY_IMPORT_DIAGNOSTICS = (
    "mmm.diagnostics",
    "harness",
    "baselines.oracle_labels",
    "baselines.oracle_matching",
    "baselines.identity_labels",
)
NON_REFERENCE_METHODS = [name for name in METHOD_NAMES if name not in REFERENCE_METHODS]
CPU = torch.device("cpu")


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for package in SOURCE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            yield name, ast.parse(path.read_text(encoding="utf-8"))


def _imports(tree: ast.AST) -> set[str]:
    """Every module a module may import when it runs (function-level imports included; annotations-only imports
    under `if TYPE_CHECKING:` left out), with `from m import x` giving both m and m.x."""
    names: set[str] = set()
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            names |= set().union(*(_imports(child) for child in node.orelse))
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        names |= _imports(node)
    return names


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def test_nothing_but_the_door_reads_the_ground_truth_of_a_training_split() -> None:
    readers = {
        name
        for name, tree in _modules()
        if any(isinstance(node, ast.Attribute) and node.attr == "ground_truth" for node in ast.walk(tree))
    }
    # mmm.data.records defines TrainSplit, which checks that it holds one identity per image.
    assert readers == {DOOR_MODULE, "mmm.data.records"}


def test_only_the_diagnostics_the_harness_and_the_references_import_the_door() -> None:
    importers = {name for name, tree in _modules() if any(_within(i, ("mmm.diagnostics",)) for i in _imports(tree))}
    assert importers, "the door must have users"
    assert {name for name in importers if not _within(name, MAY_IMPORT_DIAGNOSTICS)} == set()
    assert {"baselines.oracle_labels", "baselines.oracle_matching"} <= importers


def _closure(start: str, graph: dict[str, set[str]]) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo += [target for target in graph if any(i == target or i.startswith(target + ".") for i in graph[module])]
    return seen


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_no_method_but_the_references_can_reach_the_door(method: str) -> None:
    graph = {name: _imports(tree) for name, tree in _modules()}
    reachable = _closure(METHOD_PATHS[method].split(":")[0], graph)
    assert (DOOR_MODULE in reachable) == (method in REFERENCE_METHODS)


class SealedGroundTruth(GroundTruth):
    """Identities that cannot be read: any method reading them, by any route, fails."""

    def __getattribute__(self, name: str) -> object:
        if name == "pids":
            raise AssertionError("the training identities were read")
        return super().__getattribute__(name)


def _sealed(task: Task) -> Task:
    split = TrainSplit(task.train.images, GroundTruth(np.zeros(len(task.train.images), dtype=np.int64)))
    # Past the dataclasses' own checks, which read the identities' length.
    object.__setattr__(split, "ground_truth", object.__new__(SealedGroundTruth))
    return dataclasses.replace(task, train=split)


@pytest.mark.slow
@pytest.mark.parametrize("method", NON_REFERENCE_METHODS)
def test_every_method_runs_blind_to_the_training_identities(
    method: str, sysu_smoke_task: Task, session_cache: Path
) -> None:
    sealed = _sealed(sysu_smoke_task)
    with pytest.raises(AssertionError, match="identities were read"):
        training_identities(sealed.train)
    result = load_method(method)(profile_config("smoke", "sysu"), sealed, device=CPU, cache_dir=session_cache)
    assert result.metrics["all"]["R1"] >= 0.0


@pytest.mark.parametrize("method", REFERENCE_METHODS)
def test_the_references_read_the_identities_before_they_train(
    method: str, sysu_smoke_task: Task, session_cache: Path
) -> None:
    with pytest.raises(AssertionError, match="identities were read"):
        load_method(method)(
            profile_config("smoke", "sysu"), _sealed(sysu_smoke_task), device=CPU, cache_dir=session_cache
        )
