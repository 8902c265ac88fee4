"""Decoded-image cache: every image of a split decoded and resized once into one memory-mapped uint8 array.

Training reads the same images every epoch; decoding tens of thousands of JPEG/BMP files each time would dominate
a CPU run. `load_images` decodes once into `<cache_dir>/images-<N>x<H>x<W>-<key>.npy` (a standard .npy file, so
numpy can open it anywhere) plus a JSON sidecar holding its shape and CRC-32. The key hashes the resolved paths,
file sizes and modification times, the output size and the cache format version, so an edited image or another
size gives another file. Files are written to a temporary name in the cache folder and moved into place with
os.replace, so a reader never sees a half-written cache; a truncated or corrupt one is detected on load, logged
and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import zlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

import numpy as np
from PIL import Image

from mmm.data.errors import DatasetError
from mmm.data.image_modes import upright_rgb
from mmm.data.records import ImageRecord, TrainImage

logger = logging.getLogger(__name__)

# Bump whenever decoding or the file layout changes, so old caches are never read as new ones. 2: every image mode
# read to 8-bit RGB by mmm.data.image_modes (16-bit grayscale scaled, alpha composited, EXIF orientation applied).
FORMAT_VERSION = 2
# Images decoded per thread-pool round: bounds the decoded images waiting in memory to be copied.
_DECODE_CHUNK = 256
# Rows hashed per CRC-32 call: big enough to be fast, small enough not to page in a whole cache at once.
_CRC_CHUNK_BYTES = 64 * 1024 * 1024


def records_paths(records: Iterable[TrainImage | ImageRecord]) -> list[Path]:
    """The image paths of some records, in order."""
    return [record.path for record in records]


def load_images(
    paths: Sequence[Path],
    height: int,
    width: int,
    cache_dir: Path,
    workers: int | None = None,
) -> np.ndarray:
    """All images decoded to RGB and resized (PIL bilinear) to height × width, as a read-only [N, H, W, 3] uint8
    array memory-mapped from the cache (built first if missing or damaged).

    Every image mode is read to 8-bit RGB as mmm.data.image_modes says (16-bit grayscale scaled to 8 bits,
    transparency composited over black, EXIF orientation applied) or refused. `workers` threads
    decode in parallel (default: up to 4). With no paths the result is an empty in-memory array.

    Raises DatasetError naming the file when an image is missing or cannot be decoded.
    """
    if height <= 0 or width <= 0:
        raise ValueError(f"image size must be positive, got {height}x{width}")
    shape = (len(paths), height, width, 3)
    if not paths:
        empty = np.zeros(shape, dtype=np.uint8)
        empty.flags.writeable = False
        return empty
    cache_dir.mkdir(parents=True, exist_ok=True)
    stem = f"images-{len(paths)}x{height}x{width}-{_cache_key(paths, height, width)}"
    data_path = cache_dir / f"{stem}.npy"
    sidecar_path = cache_dir / f"{stem}.json"
    if data_path.exists() or sidecar_path.exists():
        cached, problem = _open_cache(data_path, sidecar_path, shape)
        if cached is not None:
            return cached
        logger.warning("image cache %s is unusable (%s); rebuilding it", data_path, problem)
    logger.info("decoding %d images at %dx%d into %s", len(paths), height, width, data_path)
    _build_cache(paths, height, width, data_path, sidecar_path, workers or min(4, os.cpu_count() or 1))
    cached, problem = _open_cache(data_path, sidecar_path, shape)
    if cached is None:
        raise OSError(f"image cache {data_path} is unusable right after writing it: {problem}")
    return cached


def decode_image(path: Path, height: int, width: int) -> np.ndarray:
    """One image as an [H, W, 3] uint8 RGB array, upright (EXIF orientation applied), resized with PIL bilinear;
    DatasetError if unreadable or of a mode with no defined 8-bit RGB reading (mmm.data.image_modes)."""
    try:
        with Image.open(path) as image:
            rgb = upright_rgb(image, path).resize((width, height), Image.Resampling.BILINEAR)
            return np.asarray(rgb, dtype=np.uint8)
    except FileNotFoundError as exc:
        raise DatasetError(path, "image file not found") from exc
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        if isinstance(exc, DatasetError):
            raise
        # PIL reports unknown formats and truncated data as OSError subclasses, some corrupt headers as
        # SyntaxError or ValueError.
        raise DatasetError(path, f"cannot decode image ({exc})") from exc


def _cache_key(paths: Sequence[Path], height: int, width: int) -> str:
    digest = hashlib.sha256(f"mmm-image-cache v{FORMAT_VERSION} {height}x{width}\n".encode())
    for path in paths:
        resolved = Path(path).resolve()
        try:
            stat = resolved.stat()
        except FileNotFoundError as exc:
            raise DatasetError(path, "image file not found") from exc
        digest.update(f"{resolved}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:24]


def _open_cache(data_path: Path, sidecar_path: Path, shape: tuple[int, int, int, int]) -> tuple[np.ndarray | None, str]:
    """The cached array if the data file and its sidecar agree, else None and what is wrong."""
    try:
        meta = json.loads(sidecar_path.read_text())
    except FileNotFoundError:
        return None, "sidecar missing"
    except (OSError, ValueError) as exc:
        return None, f"sidecar unreadable: {exc}"
    if not isinstance(meta, dict):
        return None, "sidecar is not a JSON object"
    if meta.get("version") != FORMAT_VERSION or meta.get("shape") != list(shape):
        return None, f"sidecar describes {meta.get('shape')} v{meta.get('version')}, expected {list(shape)}"
    try:
        array = np.load(data_path, mmap_mode="r")
    except (OSError, ValueError) as exc:
        # numpy raises ValueError when the file is shorter than its header says (truncated write).
        return None, f"data file unreadable: {exc}"
    if array.shape != shape or array.dtype != np.uint8:
        return None, f"data file holds {array.dtype}{array.shape}, expected uint8{shape}"
    if data_path.stat().st_size != array.offset + array.nbytes:
        return None, "data file length does not match its header"
    if _crc32(array) != meta.get("crc32"):
        return None, "checksum mismatch"
    return array, ""


def _crc32(array: np.ndarray) -> int:
    rows_per_chunk = max(1, _CRC_CHUNK_BYTES // max(1, array[0].nbytes))
    crc = 0
    for start in range(0, len(array), rows_per_chunk):
        crc = zlib.crc32(np.ascontiguousarray(array[start : start + rows_per_chunk]).data.cast("B"), crc)
    return crc


def _build_cache(
    paths: Sequence[Path], height: int, width: int, data_path: Path, sidecar_path: Path, workers: int
) -> None:
    shape = (len(paths), height, width, 3)
    tmp_data = _temp_path(data_path)
    try:
        out = np.lib.format.open_memmap(tmp_data, mode="w+", dtype=np.uint8, shape=shape)
        crc = 0
        decode = partial(decode_image, height=height, width=width)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for start in range(0, len(paths), _DECODE_CHUNK):
                chunk = paths[start : start + _DECODE_CHUNK]
                for offset, image in enumerate(pool.map(decode, chunk)):
                    out[start + offset] = image
                    crc = zlib.crc32(image.data.cast("B"), crc)
        out.flush()
        del out
        _fsync(tmp_data)
        os.replace(tmp_data, data_path)
    except BaseException:
        tmp_data.unlink(missing_ok=True)
        raise
    sidecar = json.dumps({"version": FORMAT_VERSION, "shape": list(shape), "dtype": "uint8", "crc32": crc})
    _write_text_atomic(sidecar_path, sidecar)


def _temp_path(final: Path) -> Path:
    """A fresh file beside `final`, so os.replace stays on one file system and concurrent builders never clash."""
    fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
    os.close(fd)
    return Path(name)


def _write_text_atomic(path: Path, text: str) -> None:
    tmp = _temp_path(path)
    try:
        tmp.write_text(text)
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _fsync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())
