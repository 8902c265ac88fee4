"""Checking --out before any work: a run that trains for hours and then cannot write its tables, cache or
report has wasted those hours, so a folder that is a file, cannot be created or cannot be written stops the
command at once with one line saying so."""

from __future__ import annotations

import tempfile
from pathlib import Path

from harness.errors import SetupError


class OutputFolderError(SetupError):
    """--out cannot hold the study's outputs; the message says why and what to pass instead."""


def ensure_writable_folder(folder: Path) -> None:
    """Create `folder` if needed and prove a file can be written in it (then removed)."""
    if folder.exists() and not folder.is_dir():
        raise OutputFolderError(f"--out {folder} is a file, not a folder; pass a folder (it is created if missing)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputFolderError(
            f"--out {folder} cannot be created ({error.strerror or error}); pass a folder you can write to"
        ) from None
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as error:
        raise OutputFolderError(
            f"--out {folder} is not writable ({error.strerror or error}); pass a folder you can write to"
        ) from None
