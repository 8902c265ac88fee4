"""Tests of the decoded-image cache: values, reuse, invalidation, damage detection and errors."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmm.data.errors import DatasetError
from mmm.data.image_store import load_images, records_paths
from mmm.data.records import Modality, TrainImage

HEIGHT, WIDTH = 12, 6


def _write_images(folder: Path) -> list[Path]:
    """A JPEG, a BMP and a grayscale PNG (an infrared-like image), of sizes other than the cache size."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    jpg = folder / "a.jpg"
    Image.fromarray(rng.integers(0, 256, (30, 14, 3), dtype=np.uint8)).save(jpg, quality=95)
    bmp = folder / "b.bmp"
    Image.fromarray(rng.integers(0, 256, (20, 9, 3), dtype=np.uint8)).save(bmp)
    gray = folder / "c.png"
    Image.fromarray(rng.integers(0, 256, (25, 11), dtype=np.uint8), mode="L").save(gray)
    return [jpg, bmp, gray]


def _reference(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB").resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR))


def _cache_file(images: np.ndarray) -> Path:
    return Path(images.filename)


def test_cached_images_equal_a_direct_pil_decode_and_resize(tmp_path: Path) -> None:
    paths = _write_images(tmp_path / "img")
    images = load_images(paths, HEIGHT, WIDTH, tmp_path / "cache")
    assert images.shape == (3, HEIGHT, WIDTH, 3)
    assert images.dtype == np.uint8
    for row, path in zip(images, paths):
        np.testing.assert_array_equal(row, _reference(path))


def test_grayscale_image_becomes_three_equal_channels(tmp_path: Path) -> None:
    paths = _write_images(tmp_path / "img")
    gray = load_images(paths, HEIGHT, WIDTH, tmp_path / "cache")[2]
    np.testing.assert_array_equal(gray[..., 0], gray[..., 1])
    np.testing.assert_array_equal(gray[..., 0], gray[..., 2])


def test_returned_array_is_read_only(tmp_path: Path) -> None:
    images = load_images(_write_images(tmp_path / "img"), HEIGHT, WIDTH, tmp_path / "cache")
    with pytest.raises(ValueError):
        images[0, 0, 0, 0] = 1


def test_second_call_reuses_the_cache_file_untouched(tmp_path: Path) -> None:
    paths = _write_images(tmp_path / "img")
    first = _cache_file(load_images(paths, HEIGHT, WIDTH, tmp_path / "cache"))
    before = first.stat()
    second = _cache_file(load_images(paths, HEIGHT, WIDTH, tmp_path / "cache"))
    after = second.stat()
    assert second == first
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_no_temporary_files_are_left_behind(tmp_path: Path) -> None:
    load_images(_write_images(tmp_path / "img"), HEIGHT, WIDTH, tmp_path / "cache")
    names = sorted(p.suffix for p in (tmp_path / "cache").iterdir())
    assert names == [".json", ".npy"]


def test_truncated_cache_is_rebuilt_with_a_warning(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    paths = _write_images(tmp_path / "img")
    cache = _cache_file(load_images(paths, HEIGHT, WIDTH, tmp_path / "cache"))
    os.truncate(cache, cache.stat().st_size - 50)
    with caplog.at_level(logging.WARNING, logger="mmm.data.image_store"):
        images = load_images(paths, HEIGHT, WIDTH, tmp_path / "cache")
    assert "rebuilding" in caplog.text
    np.testing.assert_array_equal(images[-1], _reference(paths[-1]))


def test_corrupt_cache_of_the_right_length_is_rebuilt(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    paths = _write_images(tmp_path / "img")
    cache = _cache_file(load_images(paths, HEIGHT, WIDTH, tmp_path / "cache"))
    data = bytearray(cache.read_bytes())
    data[-10:] = bytes(255 - b for b in data[-10:])
    cache.write_bytes(bytes(data))
    with caplog.at_level(logging.WARNING, logger="mmm.data.image_store"):
        images = load_images(paths, HEIGHT, WIDTH, tmp_path / "cache")
    assert "checksum" in caplog.text
    np.testing.assert_array_equal(images[-1], _reference(paths[-1]))


def test_missing_sidecar_makes_the_cache_rebuilt(tmp_path: Path) -> None:
    paths = _write_images(tmp_path / "img")
    cache = _cache_file(load_images(paths, HEIGHT, WIDTH, tmp_path / "cache"))
    cache.with_suffix(".json").unlink()
    images = load_images(paths, HEIGHT, WIDTH, tmp_path / "cache")
    assert cache.with_suffix(".json").exists()
    np.testing.assert_array_equal(images[0], _reference(paths[0]))


def test_changed_source_image_gives_a_new_cache(tmp_path: Path) -> None:
    paths = _write_images(tmp_path / "img")
    old = _cache_file(load_images(paths, HEIGHT, WIDTH, tmp_path / "cache"))
    Image.new("RGB", (14, 30), (10, 200, 30)).save(paths[0], quality=95)
    stat = paths[0].stat()
    os.utime(paths[0], ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    images = load_images(paths, HEIGHT, WIDTH, tmp_path / "cache")
    assert _cache_file(images) != old
    np.testing.assert_array_equal(images[0], _reference(paths[0]))


def test_another_size_gives_another_cache(tmp_path: Path) -> None:
    paths = _write_images(tmp_path / "img")
    small = load_images(paths, HEIGHT, WIDTH, tmp_path / "cache")
    large = load_images(paths, 2 * HEIGHT, 2 * WIDTH, tmp_path / "cache")
    assert _cache_file(small) != _cache_file(large)
    assert large.shape == (3, 2 * HEIGHT, 2 * WIDTH, 3)


def test_unreadable_image_raises_dataset_error_naming_it(tmp_path: Path) -> None:
    paths = _write_images(tmp_path / "img")
    broken = tmp_path / "img" / "broken.jpg"
    broken.write_bytes(b"not an image at all")
    with pytest.raises(DatasetError) as info:
        load_images([*paths, broken], HEIGHT, WIDTH, tmp_path / "cache")
    assert info.value.path == broken
    assert not any(p.suffix == ".npy" for p in (tmp_path / "cache").iterdir())


def test_missing_image_raises_dataset_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "img" / "missing.bmp"
    with pytest.raises(DatasetError) as info:
        load_images([missing], HEIGHT, WIDTH, tmp_path / "cache")
    assert info.value.path == missing


def test_no_paths_give_an_empty_array(tmp_path: Path) -> None:
    assert load_images([], HEIGHT, WIDTH, tmp_path / "cache").shape == (0, HEIGHT, WIDTH, 3)


def test_records_paths_keeps_record_order(tmp_path: Path) -> None:
    records = [TrainImage(tmp_path / name, camid=1, modality=Modality.VISIBLE) for name in ("b.jpg", "a.jpg")]
    assert records_paths(records) == [tmp_path / "b.jpg", tmp_path / "a.jpg"]
