"""The report as a person sees it: a headless Chromium screenshot is the requested size and not blank."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageStat

WIDTH, HEIGHT = 1280, 2400
SCREENSHOT_TIMEOUT_S = 120


def find_chromium() -> str | None:
    if Path("/usr/bin/chromium").is_file():
        return "/usr/bin/chromium"
    return shutil.which("chromium")


CHROMIUM = find_chromium()


@pytest.mark.browser
@pytest.mark.skipif(
    CHROMIUM is None, reason="headless chromium not installed (no /usr/bin/chromium and no chromium on PATH)"
)
def test_headless_chromium_screenshot_of_the_report_is_not_blank(synthetic_report: Path, tmp_path: Path) -> None:
    screenshot = tmp_path / "report.png"
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={screenshot}", f"--window-size={WIDTH},{HEIGHT}",
        synthetic_report.resolve().as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=SCREENSHOT_TIMEOUT_S)
    assert screenshot.is_file()
    with Image.open(screenshot) as image:
        assert image.size == (WIDTH, HEIGHT)
        variance = ImageStat.Stat(image.convert("L")).var[0]
    assert variance > 0
