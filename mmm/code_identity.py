"""What code made a result: a hash of the method's source, plus the git commit and whether the checkout had
uncommitted changes.

The source hash covers every Python file of `mmm/` and `baselines/` (and their package data, such as
`mmm/models/resnet50_keys.txt`) and is taken over each file's syntax tree with its docstrings removed, so comments,
docstrings and formatting do not change it while any change to what the code computes does. Every stored result
(a study's trials, the floor records, the stage-cache entries) records the identity, and the keys of the floor and
the stage cache contain the hash: a result made by other code is never served as current.

The syntax tree is written out field by field with empty fields left out, so the hash is the same on the Python
versions the project supports (newer versions add optional fields, such as `type_params`, that are empty for code
that does not use them). Everything here is computed once per process.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

# The packages whose code decides what a run computes (the harness, studies and reports only run and show it).
METHOD_PACKAGES = ("mmm", "baselines")
# Package data read by the method (hashed as bytes); Python files are hashed over their syntax tree.
DATA_SUFFIXES = (".txt",)
SOURCE_CHARS = 16
GIT_TIMEOUT_S = 10.0
UNKNOWN = "unknown"


@dataclass(frozen=True)
class CodeIdentity:
    """The code a result came from."""

    source: str  # hash of the method's source (SOURCE_CHARS hex digits); what decides whether a result is current
    commit: str  # git HEAD of the checkout, or "unknown" outside a git checkout
    dirty: bool | None  # uncommitted changes in the checkout when it ran; None when unknown

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "commit": self.commit, "dirty": self.dirty}

    @classmethod
    def from_dict(cls, record: Any) -> "CodeIdentity | None":
        """The identity a result recorded, or None when it recorded none (made before identities were kept)."""
        if not isinstance(record, dict) or not isinstance(record.get("source"), str):
            return None
        dirty = record.get("dirty")
        return cls(record["source"], str(record.get("commit", UNKNOWN)), dirty if isinstance(dirty, bool) else None)

    def describe(self) -> str:
        """One short line: the source hash, the commit and the dirty flag."""
        state = {True: ", uncommitted changes", False: "", None: ", checkout state unknown"}[self.dirty]
        return f"source {self.source} (commit {self.commit[:12]}{state})"


def project_root() -> Path:
    """The folder holding the method's packages (the repository root in a checkout)."""
    return Path(__file__).resolve().parent.parent


@functools.cache
def code_identity() -> CodeIdentity:
    """This process's code: the source hash of the installed method and the git state of its checkout."""
    commit, dirty = _git_state(project_root())
    return CodeIdentity(current_source(), commit, dirty)


@functools.cache
def current_source() -> str:
    """The source hash of the method this process runs (cached: the tree is read once)."""
    return source_hash(project_root())


def source_hash(root: Path) -> str:
    """The hash of the method's source under `root` (its `mmm/` and `baselines/` folders)."""
    digest = hashlib.sha256()
    for relative, path in _method_files(root):
        digest.update(relative.encode("utf-8") + b"\0")
        digest.update(_file_fingerprint(path))
        digest.update(b"\n")
    return digest.hexdigest()[:SOURCE_CHARS]


def _method_files(root: Path) -> list[tuple[str, Path]]:
    files = []
    for package in METHOD_PACKAGES:
        for path in (root / package).rglob("*"):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            if path.suffix == ".py" or path.suffix in DATA_SUFFIXES:
                files.append((path.relative_to(root).as_posix(), path))
    return sorted(files)


def _file_fingerprint(path: Path) -> bytes:
    data = path.read_bytes()
    if path.suffix != ".py":
        return hashlib.sha256(data).digest()
    tree = ast.parse(data, filename=str(path))
    return hashlib.sha256("".join(_canonical(tree)).encode("utf-8")).digest()


def _canonical(node: Any) -> Iterator[str]:
    """The syntax tree as text: node types and their non-empty fields, docstrings left out. Line numbers and
    columns are attributes, not fields, so formatting never enters."""
    if isinstance(node, ast.AST):
        yield type(node).__name__ + "("
        for name in node._fields:
            value = getattr(node, name, None)
            if name == "body" and isinstance(value, list) and _has_docstring(node):
                value = value[1:]
            if value is None or value == []:
                continue
            yield name + "="
            yield from _canonical(value)
            yield ","
        yield ")"
    elif isinstance(node, list):
        yield "["
        for item in node:
            yield from _canonical(item)
            yield ","
        yield "]"
    else:
        yield f"{type(node).__name__}:{node!r}"


def _has_docstring(node: ast.AST) -> bool:
    if not isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) or not node.body:
        return False
    first = node.body[0]
    return isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)


def _git_state(root: Path) -> tuple[str, bool | None]:
    """HEAD and whether the working tree differs from it (tracked or untracked files, ignored ones aside)."""
    head = _git(root, "rev-parse", "HEAD")
    if head is None:
        return UNKNOWN, None
    status = _git(root, "status", "--porcelain")
    return head, None if status is None else bool(status)


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=GIT_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
