"""Every method a study can run has the Method signature (mmm.pipeline.method): the same parameters, kinds and
defaults, so the harness can call any of them the one way it does."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Callable

import pytest

from harness.methods import METHOD_NAMES, load_method
from harness.references import REFERENCE_KINDS, ReferenceStore
from mmm.pipeline.method import Method
from tests.harness.fakes import recording_method


def _shape(function: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def _method_shape() -> list[tuple[str, Any, Any]]:
    # inspect drops `self` from the signature of a bound method, not from the function on the class.
    return _shape(Method.__call__)[1:]


def test_the_protocol_spells_out_every_hook_as_a_keyword() -> None:
    assert [(name, kind) for name, kind, _ in _method_shape()] == [
        ("config", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        ("task", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        *(
            (name, inspect.Parameter.KEYWORD_ONLY)
            for name in ("device", "cache_dir", "store", "on_progress", "diagnose")
        ),
    ]


@pytest.mark.parametrize("name", METHOD_NAMES)
def test_every_registered_method_has_the_method_signature(name: str) -> None:
    assert _shape(load_method(name)) == _method_shape()


def test_the_reference_stores_and_the_test_fake_have_the_method_signature(tmp_path: Path) -> None:
    for kind in REFERENCE_KINDS:
        assert _shape(ReferenceStore(tmp_path, kind).serve) == _method_shape()
    assert _shape(recording_method(tmp_path / "log")) == _method_shape()
