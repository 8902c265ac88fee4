"""Generate the synthetic pair once per spec and reuse it: a cache folder named by the spec fingerprint.

A pair is written into a temporary folder beside its final place, the completion marker is written last, and the
folder is then renamed into place, so a killed run never leaves a tree that looks complete. A final folder
without the marker (left by hand or by an older tool) is regenerated, and temporary folders a killed run left
behind are removed once they are old enough that no live generation can own them.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from mmm.data.errors import DatasetError
from mmm.data.synthetic.regdb_layout import write_regdb_tree
from mmm.data.synthetic.spec import (
    DEFAULT_SPEC,
    GENERATOR_VERSION,
    SyntheticSpec,
    spec_as_json,
    spec_fingerprint,
    spec_from_json,
)
from mmm.data.synthetic.sysu_layout import write_sysu_tree
from mmm.paths import default_cache_dir

logger = logging.getLogger(__name__)

SYSU_DIRNAME = "SYSU-MM01"
REGDB_DIRNAME = "RegDB"
MARKER_FILE = "COMPLETE"
# A generation takes seconds; a temporary folder untouched for this long belongs to a killed run.
STALE_STAGING_SECONDS = 3600.0


def synthetic_pair_dir(cache_dir: Path, spec: SyntheticSpec) -> Path:
    """The folder a pair with this spec lives in (whether or not it exists yet)."""
    return cache_dir / f"synthetic-{spec_fingerprint(spec)}"


def is_complete(folder: Path) -> bool:
    """Whether folder holds a finished pair (its marker exists)."""
    return (folder / MARKER_FILE).is_file()


def marker_spec(folder: Path) -> SyntheticSpec | None:
    """The spec a finished pair in folder was generated from (read from its marker); None without a marker.

    Raises DatasetError naming the marker when it exists but does not hold a spec."""
    marker = folder / MARKER_FILE
    if not marker.is_file():
        return None
    try:
        spec, version = spec_from_json(marker.read_text(encoding="utf-8"))
    except ValueError as error:
        raise DatasetError(marker, f"synthetic pair marker is malformed: {error}") from None
    if version != GENERATOR_VERSION:
        logger.warning(
            "%s was written by generator version %d (this is version %d)", marker, version, GENERATOR_VERSION
        )
    return spec


def generate_pair(destination: Path, spec: SyntheticSpec) -> tuple[Path, Path]:
    """Write both trees under destination (SYSU-MM01/ and RegDB/) and the marker last; no caching."""
    sysu_seed, regdb_seed = np.random.SeedSequence(spec.seed).spawn(2)
    sysu_root, regdb_root = destination / SYSU_DIRNAME, destination / REGDB_DIRNAME
    write_sysu_tree(sysu_root, spec, np.random.default_rng(sysu_seed))
    write_regdb_tree(regdb_root, spec, np.random.default_rng(regdb_seed))
    staging = destination / f"{MARKER_FILE}.partial"
    staging.write_text(spec_as_json(spec) + "\n", encoding="utf-8")
    os.replace(staging, destination / MARKER_FILE)
    return sysu_root, regdb_root


def remove_stale_staging(cache_dir: Path, final: Path, max_age: float = STALE_STAGING_SECONDS) -> list[Path]:
    """Delete the temporary folders of `final` not modified for max_age seconds; returns what was removed."""
    removed = []
    now = time.time()
    for folder in cache_dir.glob(f".{final.name}-*"):
        if folder.is_dir() and now - folder.stat().st_mtime > max_age:
            logger.info("removing %s, left behind by an interrupted generation", folder)
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def ensure_synthetic_pair(cache_dir: Path | None = None, spec: SyntheticSpec = DEFAULT_SPEC) -> tuple[Path, Path]:
    """Return (sysu_root, regdb_root) of the pair for spec, generating it first unless a complete one is cached."""
    cache_dir = default_cache_dir() if cache_dir is None else Path(cache_dir)
    final = synthetic_pair_dir(cache_dir, spec)
    if is_complete(final):
        return final / SYSU_DIRNAME, final / REGDB_DIRNAME

    cache_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(cache_dir, final)
    started = time.perf_counter()
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=cache_dir))
    try:
        generate_pair(staging, spec)
        if final.exists() and not is_complete(final):
            logger.warning("removing incomplete synthetic pair at %s", final)
            shutil.rmtree(final, ignore_errors=True)
        try:
            staging.rename(final)
        except OSError:
            # Another process may have finished the same pair meanwhile; theirs is as good as ours.
            if not is_complete(final):
                raise
            shutil.rmtree(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info("generated synthetic pair %s in %.1f s", final, time.perf_counter() - started)
    return final / SYSU_DIRNAME, final / REGDB_DIRNAME
