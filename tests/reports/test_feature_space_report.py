"""The feature-space section: per dataset a t-SNE panel and a density panel for the floor, the reference variant,
the marked variants and the ceiling, a table of the gap and the separation over every variant from
feature_space.csv, mean ± sd over seeds, and a run whose feature file cannot be served as one line naming it."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mmm.evaluation.feature_space import IMAGES_PER_MODALITY, SUBSET_IDENTITIES
from reports.render import render_report
from tests.reports.study_fixture import (
    FEATURE_IDENTITIES,
    FEATURE_IMAGES,
    FEATURE_OFFSETS,
    MISSING_FEATURES,
    STUDY,
    write_study,
)

SECTION = re.compile(r'<section id="feature-space">(.*?)</section>', re.S)


def _section(html: str) -> str:
    match = SECTION.search(html)
    assert match is not None
    return match.group(1)


def _table_rows(section: str, dataset: str) -> dict[str, list[str]]:
    """The gap table of one dataset's part of the section: variant -> its cells' text."""
    part = section.split(f"<h3>{dataset}</h3>")[1].split("<h3>")[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", part.split("<tbody>")[1], re.S):
        cells = [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        rows[cells[0]] = cells
    return rows


@pytest.mark.parametrize("source", ["synthetic", "real"])
def test_each_dataset_has_an_embedding_and_a_density_figure_of_the_shown_variants(
    source: str, synthetic_html: str, real_html: str
) -> None:
    section = _section(synthetic_html if source == "synthetic" else real_html)
    for dataset in ("SYSU-MM01", "RegDB"):
        assert f'alt="{dataset} test features, t-SNE"' in section
        assert f'alt="{dataset} distance densities"' in section
    text = " ".join(section.split())
    assert "Pictures for untrained floor, full, off, identity-label ceiling" in text
    assert f"up to {SUBSET_IDENTITIES} test identities present in both modalities, up to {IMAGES_PER_MODALITY}" in text
    images = FEATURE_IDENTITIES * FEATURE_IMAGES
    subset = f"{FEATURE_IDENTITIES} test identities, {images} visible and {images} infrared images."
    subset = f"The sample each run keeps: {subset}"
    assert text.count(subset) == 2  # one per dataset
    assert section.count('src="data:image/png;base64,') == 4


def test_the_gap_table_orders_the_variants_as_their_features_do(synthetic_html: str) -> None:
    # The fixture pushes the modalities apart by FEATURE_OFFSETS: floor > off > full > ceiling.
    assert FEATURE_OFFSETS["untrained floor"] > FEATURE_OFFSETS["off"] > FEATURE_OFFSETS["full"]
    for dataset in ("SYSU-MM01", "RegDB"):
        rows = _table_rows(_section(synthetic_html), dataset)
        assert list(rows) == ["full", "off", "untrained floor", "identity-label ceiling (uses identity labels)"]
        gap = {variant: float(cells[5].split(" ± ")[0]) for variant, cells in rows.items()}
        assert gap["untrained floor"] > gap["off"] > gap["full"] > gap["identity-label ceiling (uses identity labels)"]
        assert rows["full"][7] == rows["full"][8] == "reference"
        assert rows["untrained floor"][7].startswith("+")
        # The separation reads the other way: the closer a person's two modalities, the better told apart.
        separation = {variant: float(cells[6].split(" ± ")[0]) for variant, cells in rows.items()}
        ceiling = separation["identity-label ceiling (uses identity labels)"]
        assert separation["untrained floor"] < separation["off"] < separation["full"] < ceiling
        assert rows["untrained floor"][8].startswith("−")


def test_the_gap_table_is_the_mean_and_sd_over_seeds_of_feature_space_csv(synthetic_report: Path) -> None:
    rows = pd.read_csv(synthetic_report.parent / "feature_space.csv", keep_default_na=False)
    gaps = rows[(rows["variant"] == "full") & (rows["dataset"] == "regdb") & (rows["metric"] == "modality_gap")]
    per_seed = gaps.assign(value=gaps["value"].astype(float)).groupby("seed")["value"].mean()
    expected = f"{per_seed.mean():.3f} ± {np.std(per_seed, ddof=1):.3f}".replace("-", "−")
    table = _table_rows(_section(synthetic_report.read_text(encoding="utf-8")), "RegDB")
    assert table["full"][5] == expected
    assert table["full"][1] == "3"


def test_a_run_without_its_feature_file_is_one_line_and_the_rest_stands(synthetic_html: str) -> None:
    variant, _, seed = MISSING_FEATURES
    line = f"{variant} seed {seed}: features/{variant}/sysu/seed{seed}.npz is missing"
    assert synthetic_html.count(line) == 1
    assert _table_rows(_section(synthetic_html), "SYSU-MM01")[variant][1] == "2"  # the other two seeds


@pytest.fixture(scope="module")
def altered_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("altered")
    study_dir = write_study(out)
    # After the tables were written: one file overwritten by another run's, every file of the ceiling deleted.
    shutil.copy(study_dir / "features/full/sysu/seed1.npz", study_dir / "features/full/sysu/seed0.npz")
    shutil.rmtree(study_dir / "features/ceiling")
    return render_report(out, STUDY)


def test_files_gone_or_altered_since_the_tables_were_written_are_lines_too(altered_study: Path) -> None:
    section = _section(altered_study.read_text(encoding="utf-8"))
    assert section.count("full seed 0: features/full/sysu/seed0.npz is not the file its run wrote") == 1
    assert "identity-label ceiling: no feature file could be read, so no panel." in section
    # The table still reports what feature_space.csv recorded; the pictures show the runs that could be read.
    assert "identity-label ceiling (uses identity labels)" in _table_rows(section, "SYSU-MM01")
    assert 'alt="SYSU-MM01 test features, t-SNE"' in section


def test_a_study_without_feature_space_csv_says_so_in_one_line(tmp_path: Path) -> None:
    study_dir = write_study(tmp_path)
    (study_dir / "feature_space.csv").unlink()
    section = _section(render_report(tmp_path, STUDY).read_text(encoding="utf-8"))
    assert "No feature_space.csv rows: these runs kept no test features" in section
    assert "<img" not in section
