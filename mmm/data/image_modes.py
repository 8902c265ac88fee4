"""Every image mode Pillow opens, read to upright 8-bit RGB, or refused in one line.

Pillow's own `convert("RGB")` clips wider pixel types at 255: a 16-bit grayscale thermal image (mode I;16, values
up to 65535) comes out almost all white. Here each mode gets its defined reading:

- 16-bit grayscale (I;16, I;16L, I;16B, I;16N) and 32-bit integer (I, as older Pillow opens 16-bit PNGs): the
  16-bit range scaled to 8 bits (v · 255 / 65535, rounded); 32-bit values outside 0..65535 are refused, since
  their scale is unknown;
- transparency (RGBA, LA, PA, premultiplied RGBa/La, a palette or grayscale image with a transparent colour):
  composited over black, so fully transparent pixels carry no leftover colour;
- palette (P), bilevel (1), grayscale (L), CMYK, YCbCr, RGBX: Pillow's conversion, which is exact for them;
- anything else (32-bit float F, LAB, HSV, ...): refused, since no 8-bit reading is defined for it.

EXIF orientation is applied first, so an image stored sideways with an orientation tag is read upright.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from mmm.data.errors import DatasetError

SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")
INTEGER_MODE = "I"
SIXTEEN_BIT_MAX = 65535
# Modes Pillow converts to RGB exactly (no clipping, no alpha to account for).
DIRECT_MODES = ("1", "L", "P", "RGB", "RGBX", "CMYK", "YCbCr")
# Modes with an alpha channel, and the straight-alpha mode each is read through.
ALPHA_MODES = {"RGBA": "RGBA", "LA": "LA", "PA": "RGBA", "RGBa": "RGBA", "La": "LA"}
BACKGROUND = (0, 0, 0, 255)


def upright_rgb(image: Image.Image, path: Path) -> Image.Image:
    """`image` (as opened from `path`) upright and in 8-bit RGB; DatasetError naming the file and its mode when
    no 8-bit reading of that mode is defined."""
    image = ImageOps.exif_transpose(image)
    mode = image.mode
    if mode in SIXTEEN_BIT_MODES or mode == INTEGER_MODE:
        return _scaled_gray(image, path).convert("RGB")
    if mode in ("P", "L") and "transparency" in image.info:
        return _over_background(image.convert("RGBA"))
    if mode in ALPHA_MODES:
        return _over_background(image.convert(ALPHA_MODES[mode]) if mode != ALPHA_MODES[mode] else image)
    if mode in DIRECT_MODES:
        return image.convert("RGB")
    raise DatasetError(
        path, f"image mode {mode} has no defined 8-bit RGB reading; save it as 8-bit RGB or grayscale (or 16-bit PNG)"
    )


def _scaled_gray(image: Image.Image, path: Path) -> Image.Image:
    values = np.asarray(image).astype(np.int64)
    low, high = int(values.min()), int(values.max())
    if low < 0 or high > SIXTEEN_BIT_MAX:
        raise DatasetError(
            path, f"{image.mode} image with values {low}..{high}, outside the 16-bit range 0..65535 of this reading"
        )
    return Image.fromarray(((values * 255 + SIXTEEN_BIT_MAX // 2) // SIXTEEN_BIT_MAX).astype(np.uint8))


def _over_background(image: Image.Image) -> Image.Image:
    background = Image.new("RGBA", image.size, BACKGROUND)
    return Image.alpha_composite(background, image.convert("RGBA")).convert("RGB")
