"""The report as a person sees it: a headless Chromium screenshot is the requested size and not blank, and a
real-data report on a tree that is not the known dataset shows its warning on the first screen."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageStat

from reports.feature_figures import identity_colours
from reports.render import render_report
from tests.availability import require
from tests.reports.study_fixture import FEATURE_IDENTITIES, STUDY, write_study

WIDTH, HEIGHT = 1280, 2400
SCREENSHOT_TIMEOUT_S = 120


def find_chromium() -> str | None:
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


CHROMIUM = find_chromium()


# The warning callout's background (.callout.warn in _style.html); nothing else in a report is this colour.
WARN_BACKGROUND = (0xFD, 0xF1, 0xF0)
# The callout is a full-width box several lines tall: far more pixels than any anti-aliased edge could give.
WARN_MIN_PIXELS = 20_000
FIRST_SCREEN = (1280, 900)


@pytest.fixture
def chromium() -> str:
    require(CHROMIUM is not None, "headless chromium not installed (no /usr/bin/chromium and no chromium on PATH)")
    return str(CHROMIUM)


def screenshot(chromium: str, report: Path, folder: Path, size: tuple[int, int]) -> Image.Image:
    path = folder / "report.png"
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={folder / 'profile'}",
        f"--screenshot={path}",
        f"--window-size={size[0]},{size[1]}",
        report.resolve().as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=SCREENSHOT_TIMEOUT_S)
    assert path.is_file()
    with Image.open(path) as image:
        return image.convert("RGB")


@pytest.mark.browser
def test_headless_chromium_screenshot_of_the_report_is_not_blank(
    chromium: str, synthetic_report: Path, tmp_path: Path
) -> None:
    image = screenshot(chromium, synthetic_report, tmp_path, (WIDTH, HEIGHT))
    assert image.size == (WIDTH, HEIGHT)
    assert ImageStat.Stat(image.convert("L")).var[0] > 0


def warn_pixels(image: Image.Image) -> int:
    return sum(
        count for count, colour in image.getcolors(maxcolors=image.width * image.height) if colour == WARN_BACKGROUND
    )


@pytest.mark.browser
def test_data_warning_is_on_the_first_screen_of_a_mismatched_report(
    chromium: str, mismatched_report: Path, real_report: Path, tmp_path: Path
) -> None:
    warned = screenshot(chromium, mismatched_report, tmp_path / "mismatched", FIRST_SCREEN)
    assert warn_pixels(warned) > WARN_MIN_PIXELS
    clean = screenshot(chromium, real_report, tmp_path / "clean", FIRST_SCREEN)
    assert warn_pixels(clean) == 0


# Tall enough for the whole fixture report: the feature-space section lies well below the first screens.
WHOLE_REPORT = (1280, 12000)
# Marker interiors keep the identities' exact colours after the browser scales the figure: several hundred pixels.
IDENTITY_MIN_PIXELS = 500


def identity_pixels(image: Image.Image) -> int:
    """Pixels within 3 of the feature-space identity colours the fixture uses (its identities' dark shades; grey, also
    used elsewhere, left out)."""
    colours = [np.round(255 * np.array(c)) for c in identity_colours()[:FEATURE_IDENTITIES] if len(set(c)) > 1]
    pixels = np.asarray(image, dtype=int)
    return int(sum((np.abs(pixels - colour).max(axis=2) <= 3).sum() for colour in colours))


@pytest.mark.browser
def test_the_feature_space_pictures_render_in_the_browser(
    chromium: str, synthetic_report: Path, tmp_path: Path
) -> None:
    shown = screenshot(chromium, synthetic_report, tmp_path / "with", WHOLE_REPORT)
    assert identity_pixels(shown) > IDENTITY_MIN_PIXELS
    # The same report without kept features draws none of those colours: they are the section's own.
    study_dir = write_study(tmp_path / "out")
    (study_dir / "feature_space.csv").unlink()
    without = screenshot(chromium, render_report(tmp_path / "out", STUDY), tmp_path / "without", WHOLE_REPORT)
    assert identity_pixels(without) == 0
