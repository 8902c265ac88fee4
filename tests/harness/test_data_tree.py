"""One walk of a data tree: a symbolic-link loop or a dangling link in a data root is one line, the same from the
readers, from a dry run (the fingerprint of the run key) and from --check-data; links that are sound are
followed; and the data check names images that decode to a constant picture."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from harness.study import main
from mmm.data.errors import DatasetError
from mmm.data.image_store import decode_image
from mmm.data.regdb import read_regdb
from mmm.data.synthetic import REGDB_DIRNAME, SYSU_DIRNAME, ensure_synthetic_pair, smoke_spec
from mmm.data.sysu import read_sysu
from mmm.data.tree import walk_tree

pytestmark = pytest.mark.usefixtures("restore_logging")


@pytest.fixture(scope="module")
def smoke_pair(tmp_path_factory: pytest.TempPathFactory) -> Path:
    sysu_root, _ = ensure_synthetic_pair(tmp_path_factory.mktemp("pair-cache"), smoke_spec())
    return sysu_root.parent


@pytest.fixture
def copy(smoke_pair: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(smoke_pair, tmp_path / "data", symlinks=True))


def _loop(copy: Path) -> Path:
    link = copy / SYSU_DIRNAME / "cam1" / "0001" / "back"
    link.symlink_to("..")  # leads back into cam1, which the walk is inside
    return link


def _self_loop(copy: Path) -> Path:
    link = copy / SYSU_DIRNAME / "cam2" / "loop"
    link.symlink_to("loop")
    return link


def _dangling(copy: Path) -> Path:
    link = copy / REGDB_DIRNAME / "Visible" / "gone.bmp"
    link.symlink_to("nowhere.bmp")
    return link


def _line(capsys: pytest.CaptureFixture[str], code: int) -> tuple[int, list[str]]:
    """The exit code and stderr's lines, log lines (timestamped) left out."""
    lines = capsys.readouterr().err.strip().splitlines()
    return code, [line for line in lines if not line[:4].isdigit()]


@pytest.mark.parametrize(
    ("breakage", "words"),
    [
        (_loop, "symbolic link loop (it leads back to"),
        (_self_loop, "symbolic link loop (the link resolves to itself)"),
        (_dangling, "dangling symbolic link (its target nowhere.bmp does not exist)"),
    ],
)
def test_a_broken_link_is_one_line_the_same_from_readers_dry_run_and_check(
    copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], breakage, words
) -> None:
    link = breakage(copy)
    dataset_root = copy / link.relative_to(copy).parts[0]
    with pytest.raises(DatasetError) as caught:
        (read_sysu if dataset_root.name == SYSU_DIRNAME else read_regdb)(dataset_root)
    line = str(caught.value)
    assert line.startswith(f"{link}: ") and words in line

    monkeypatch.setenv("MMM_CACHE_DIR", str(tmp_path / "cache"))
    code, err = _line(capsys, main(["smoke", "--profile", "smoke", "--data-root", str(copy), "--dry-run"]))
    assert code == 2 and len(err) == 1 and line in err[0]

    code, err = _line(capsys, main(["--check-data", "--profile", "smoke", "--data-root", str(copy)]))
    assert code == 1 and err == [f"mismatch: {dataset_root.name}: {line}"]


def test_sound_links_are_followed_and_hidden_files_left_out(copy: Path, tmp_path: Path) -> None:
    root = copy / SYSU_DIRNAME
    before = walk_tree(root)
    # The same camera folder kept elsewhere and linked in: the tree reads as before.
    shutil.move(root / "cam3", tmp_path / "cam3-elsewhere")
    (root / "cam3").symlink_to(tmp_path / "cam3-elsewhere")
    (root / "cam1" / ".DS_Store").write_bytes(b"finder")
    after = walk_tree(root)
    assert after.fingerprint() == before.fingerprint() and after.files == before.files
    assert len(read_sysu(root).query) > 0


def test_the_check_names_images_that_decode_to_a_constant_picture(
    copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    image = sorted((copy / SYSU_DIRNAME / "cam4").rglob("*.jpg"))[0]
    Image.fromarray(np.full((32, 16, 3), 255, dtype=np.uint8)).save(image, "JPEG")
    monkeypatch.setenv("MMM_CACHE_DIR", str(tmp_path / "cache"))
    code, err = _line(capsys, main(["--check-data", "--profile", "smoke", "--data-root", str(copy)]))
    assert code == 1
    assert err == [
        f"mismatch: SYSU-MM01: constant image {image}: decodes to one colour (every pixel (255, 255, 255))"
        ": blank or read wrongly"
    ]


def test_16_bit_thermal_images_pass_the_check_and_decode_to_their_picture(
    copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    infrared = sorted((copy / SYSU_DIRNAME).glob("cam[36]/*/*.jpg"))
    for image in infrared:
        gray = np.asarray(Image.open(image).convert("L"), dtype=np.uint16) * 257
        Image.fromarray(gray).save(image.with_suffix(".png"))
        image.unlink()
    monkeypatch.setenv("MMM_CACHE_DIR", str(tmp_path / "cache"))
    code, err = _line(capsys, main(["--check-data", "--profile", "smoke", "--data-root", str(copy)]))
    assert (code, err) == (0, [])
    thermal = read_sysu(copy / SYSU_DIRNAME).query[0].path
    assert Image.open(thermal).mode == "I;16"
    assert decode_image(thermal, 64, 32).mean() < 200, "a 16-bit image read by clipping comes out white"
