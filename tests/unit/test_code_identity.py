"""The code identity: the method's source hash ignores comments, docstrings and formatting and changes with what
the code computes; the identity of this process names its commit and whether the checkout is dirty."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mmm.code_identity import METHOD_PACKAGES, CodeIdentity, _git_state, code_identity, project_root, source_hash

CONFIG = Path("mmm/pipeline/config.py")


@pytest.fixture()
def source_copy(tmp_path: Path) -> Path:
    """A copy of the method's packages (without bytecode), to edit."""
    for package in METHOD_PACKAGES:
        shutil.copytree(project_root() / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _edit(root: Path, relative: Path, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_the_copy_hashes_like_the_installed_method(source_copy: Path) -> None:
    assert source_hash(source_copy) == code_identity().source == source_hash(project_root())


def test_comments_docstrings_and_formatting_leave_the_hash_alone(source_copy: Path) -> None:
    before = source_hash(source_copy)
    _edit(source_copy, CONFIG, "    seed: int = 0  #", "    seed  :  int=0  # a reworded comment;")
    _edit(source_copy, CONFIG, '"""The pipeline\'s configuration', '"""A rewritten docstring.\n\nThe configuration')
    (source_copy / "baselines" / "dcl.py").write_text(
        "# a new comment line\n" + (source_copy / "baselines" / "dcl.py").read_text() + "\n\n# trailing\n"
    )
    assert source_hash(source_copy) == before


@pytest.mark.parametrize(
    ("relative", "old", "new"),
    [
        (CONFIG, "temperature: float = 0.05", "temperature: float = 0.07"),  # a default
        (Path("baselines/dcl.py"), "from", "import os\nfrom"),  # a statement in a baseline
        (Path("mmm/models/resnet50_keys.txt"), "conv1", "conv_1"),  # package data the method reads
    ],
)
def test_a_change_to_what_the_method_computes_changes_the_hash(
    source_copy: Path, relative: Path, old: str, new: str
) -> None:
    before = source_hash(source_copy)
    _edit(source_copy, relative, old, new)
    assert source_hash(source_copy) != before


def test_a_new_module_changes_the_hash(source_copy: Path) -> None:
    before = source_hash(source_copy)
    (source_copy / "mmm" / "extra.py").write_text("VALUE = 1\n")
    assert source_hash(source_copy) != before


def test_this_process_names_its_commit_and_dirty_flag() -> None:
    identity = code_identity()
    assert code_identity() is identity  # computed once per process
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project_root(), capture_output=True, text=True)
    if head.returncode != 0:
        assert (identity.commit, identity.dirty) == ("unknown", None)
        return
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project_root(), capture_output=True, text=True)
    assert identity.commit == head.stdout.strip()
    assert identity.dirty is bool(status.stdout.strip())


def test_an_identity_round_trips_through_its_record() -> None:
    identity = CodeIdentity("0123456789abcdef", "f" * 40, True)
    assert CodeIdentity.from_dict(identity.as_dict()) == identity
    assert CodeIdentity.from_dict(None) is None
    assert CodeIdentity.from_dict({"commit": "abc"}) is None


def test_outside_a_git_checkout_the_commit_is_unknown(tmp_path: Path) -> None:
    assert _git_state(tmp_path) == ("unknown", None)
