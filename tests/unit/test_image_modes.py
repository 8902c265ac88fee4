"""Every image mode Pillow opens is read to upright 8-bit RGB, or refused in one line: 16-bit grayscale scaled
(not clipped to white), palettes, CMYK, transparency composited over black, EXIF orientation applied."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmm.data.errors import DatasetError
from mmm.data.image_modes import upright_rgb
from mmm.data.image_store import decode_image

H, W = 32, 16


def _picture() -> np.ndarray:
    """An 8-bit RGB picture with structure in every channel."""
    rows, cols = np.mgrid[0:H, 0:W]
    return np.stack([rows * 7 % 256, cols * 13 % 256, (rows + cols) * 5 % 256], axis=-1).astype(np.uint8)


def _decode(image: Image.Image, path: Path, **save: object) -> np.ndarray:
    image.save(path, **save)
    return decode_image(path, H, W)


def test_16_bit_grayscale_reads_as_its_8_bit_picture_not_white(tmp_path: Path) -> None:
    gray = np.asarray(Image.fromarray(_picture()).convert("L"))
    sixteen = Image.fromarray(gray.astype(np.uint16) * 257)
    assert sixteen.mode == "I;16"
    decoded = _decode(sixteen, tmp_path / "thermal.png")
    assert np.array_equal(decoded, _decode(Image.fromarray(gray), tmp_path / "gray.png"))
    assert decoded.max() < 255 or gray.max() == 255


def test_32_bit_integers_read_in_the_16_bit_range_and_others_are_refused(tmp_path: Path) -> None:
    gray = np.asarray(Image.fromarray(_picture()).convert("L")).astype(np.int32)
    as_int = Image.fromarray(gray * 257)
    assert as_int.mode == "I"
    assert np.array_equal(np.asarray(upright_rgb(as_int, tmp_path / "a.png"))[..., 0], gray)
    with pytest.raises(DatasetError, match=r"I image with values 0\.\.70000, outside the 16-bit range"):
        upright_rgb(Image.fromarray(np.array([[0, 70000]], dtype=np.int32)), tmp_path / "b.png")


def test_a_float_image_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "float.tiff"
    Image.fromarray(np.linspace(0, 1, H * W, dtype=np.float32).reshape(H, W)).save(path)
    with pytest.raises(DatasetError, match=r"image mode F has no defined 8-bit RGB reading") as caught:
        decode_image(path, H, W)
    assert str(caught.value).startswith(f"{path}: ") and "\n" not in str(caught.value)


def test_palette_bilevel_and_cmyk_read_as_their_colours(tmp_path: Path) -> None:
    picture = _picture()
    palette = Image.fromarray(picture).quantize(64)
    assert np.array_equal(_decode(palette, tmp_path / "p.png"), np.asarray(palette.convert("RGB")))
    bilevel = Image.fromarray((picture[..., 0] > 100).astype(np.uint8) * 255).convert("1")
    assert set(np.unique(_decode(bilevel, tmp_path / "one.png"))) == {0, 255}
    cmyk = Image.new("CMYK", (W, H), (0, 255, 255, 0))  # pure red in CMYK
    red = _decode(cmyk, tmp_path / "cmyk.jpg", quality=100)
    assert np.abs(red.astype(int) - [255, 0, 0]).max() <= 2


def test_transparency_is_composited_over_black(tmp_path: Path) -> None:
    picture = _picture()
    alpha = np.zeros((H, W), dtype=np.uint8)
    alpha[:, : W // 2] = 255
    rgba = Image.fromarray(np.dstack([picture, alpha]))
    decoded = _decode(rgba, tmp_path / "rgba.png")
    assert np.array_equal(decoded[:, : W // 2], picture[:, : W // 2]) and not decoded[:, W // 2 :].any()
    gray = Image.fromarray(np.dstack([picture[..., 0], alpha]))
    assert not _decode(gray, tmp_path / "la.png")[:, W // 2 :].any()
    keyed = Image.fromarray(picture).quantize(16)
    hidden = int(np.asarray(keyed)[0, 0])
    decoded = _decode(keyed, tmp_path / "keyed.png", transparency=hidden)
    assert not decoded[np.asarray(keyed) == hidden].any()


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    picture = _picture()
    # Stored turned a quarter to the left, with the tag saying "rotate 90° clockwise to display".
    stored = Image.fromarray(np.rot90(picture))
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "turned.png"
    stored.save(path, exif=exif)
    assert np.array_equal(decode_image(path, H, W), decode_image(_save(Image.fromarray(picture), tmp_path), H, W))


def _save(image: Image.Image, folder: Path) -> Path:
    path = folder / "upright.png"
    image.save(path)
    return path
