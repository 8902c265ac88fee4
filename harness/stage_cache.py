"""A StageStore on files: `<root>/<stage>/<key>.pt`, so variants that share upstream stages (the SCA ablation
shares stages A+B) compute them once, across runs and across workers on one disk.

Each file is a header (magic + SHA-256 of the payload) and a torch.save payload, written to a temporary file,
fsynced and renamed into place, so a reader sees a whole entry or none. The payload holds the stage's output and
the identity of the code that made it (mmm.code_identity); the keys contain the source hash, so an entry is only
ever read by the code that wrote it. An entry that fails its checksum or
does not load (a truncated copy, a full disk) is deleted and reported as a miss, and the pipeline recomputes it.
The cache only saves time: an entry that cannot be read or written (a full disk, a read-only folder) is a logged
warning naming the file, never a failed cell.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections import Counter
from pathlib import Path
from typing import Any

import torch

from harness.atomic import atomic_write_bytes
from mmm.code_identity import code_identity

log = logging.getLogger(__name__)

MAGIC = b"MMMSTAGE2\n"  # 2: the payload records the code identity beside the value
_DIGEST_BYTES = hashlib.sha256().digest_size
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


class CacheStats:
    """Hits, misses and corrupt entries per stage."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.misses: Counter[str] = Counter()
        self.corrupt: Counter[str] = Counter()
        self.unwritten: Counter[str] = Counter()

    def as_dict(self) -> dict[str, Any]:
        return {
            "hits": sum(self.hits.values()),
            "misses": sum(self.misses.values()),
            "corrupt": sum(self.corrupt.values()),
            "unwritten": sum(self.unwritten.values()),
            "hits_by_stage": dict(self.hits),
            "misses_by_stage": dict(self.misses),
        }


class FileStageStore:
    """StageStore (mmm.pipeline.hooks) on files under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.stats = CacheStats()

    def path(self, stage: str, key: str) -> Path:
        for name in (stage, key):
            if not _NAME.match(name):
                raise ValueError(f"stage cache names must match {_NAME.pattern}, got {name!r}")
        return self.root / stage / f"{key}.pt"

    def load(self, stage: str, key: str) -> Any | None:
        path = self.path(stage, key)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            self.stats.misses[stage] += 1
            return None
        except OSError as error:
            log.warning(
                "stage cache entry %s cannot be read (%s); the stage will be recomputed", path, error.strerror or error
            )
            self.stats.misses[stage] += 1
            return None
        try:
            value = _decode(blob)
        except Exception as error:  # any unreadable entry is recomputed, whatever broke it
            log.warning(
                "stage cache entry %s is unreadable (%s); deleting it, the stage will be recomputed", path, error
            )
            path.unlink(missing_ok=True)
            self.stats.corrupt[stage] += 1
            self.stats.misses[stage] += 1
            return None
        self.stats.hits[stage] += 1
        return value

    def save(self, stage: str, key: str, value: Any) -> None:
        buffer = io.BytesIO()
        torch.save({"code": code_identity().as_dict(), "value": value}, buffer)
        payload = buffer.getvalue()
        path = self.path(stage, key)
        try:
            atomic_write_bytes(path, MAGIC + hashlib.sha256(payload).digest() + payload)
        except OSError as error:
            self.stats.unwritten[stage] += 1
            log.warning(
                "stage cache entry %s could not be written (%s); the run goes on without caching it",
                path,
                error.strerror or error,
            )


def _decode(blob: bytes) -> Any:
    header = len(MAGIC) + _DIGEST_BYTES
    if len(blob) < header or not blob.startswith(MAGIC):
        raise ValueError("missing or wrong header")
    payload = blob[header:]
    if hashlib.sha256(payload).digest() != blob[len(MAGIC) : header]:
        raise ValueError("checksum mismatch")
    # weights_only=False: entries hold numpy arrays besides tensors; the checksum above proves this is a file
    # the harness wrote itself.
    return torch.load(io.BytesIO(payload), map_location="cpu", weights_only=False)["value"]
