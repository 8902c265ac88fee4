"""The recipes: each sets every row of its table, the profiles layer their sizes over it, and docs/recipes.md is
the table the code holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmm.choices import DATASETS
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.profiles import default_recipe, profile_config
from mmm.pipeline.recipes import RECIPE_ROWS, RECIPES, recipe_overrides, recipe_table

DOCS = Path(__file__).resolve().parents[2] / "docs" / "recipes.md"


def test_docs_recipe_table_matches_the_recipes_in_code() -> None:
    assert DOCS.read_text() == recipe_table(), "regenerate: python -m mmm.pipeline.recipes > docs/recipes.md"


def test_every_recipe_value_is_a_valid_config_value() -> None:
    for recipe in RECIPES:
        for dataset in DATASETS:
            PipelineConfig(dataset=dataset).with_overrides(**recipe_overrides(recipe, dataset, scale=True))


@pytest.mark.parametrize("recipe", RECIPES)
@pytest.mark.parametrize("dataset", ["sysu", "regdb"])
def test_a_paper_scale_profile_applies_every_row_of_its_recipe(recipe: str, dataset: str) -> None:
    config = profile_config("paper", dataset, recipe=recipe)
    assert config.recipe == recipe
    for row in RECIPE_ROWS:
        assert getattr(config, row.field) == row.value(recipe, dataset), row.field


def test_the_release_profile_is_paper_scale_with_the_release_recipe() -> None:
    assert default_recipe("release") == "release" and default_recipe("paper") == "paper"
    assert profile_config("release", "regdb") == profile_config("paper", "regdb", recipe="release")
    assert profile_config("release", "regdb").iters_a == 100


def test_cpu_profiles_keep_their_sizes_under_either_recipe() -> None:
    paper = profile_config("quick", "sysu")
    release = profile_config("quick", "sysu", recipe="release")
    for row in RECIPE_ROWS:
        if row.scale:
            assert getattr(release, row.field) == getattr(paper, row.field), row.field
        else:
            assert getattr(release, row.field) == row.value("release", "sysu"), row.field
    assert (paper.inter_start_epoch, release.inter_start_epoch) == (2, 0)


def test_overrides_win_over_the_recipe_and_an_unknown_recipe_is_named() -> None:
    assert profile_config("quick", "sysu", recipe="release", solver="hungarian").solver == "hungarian"
    with pytest.raises(ValueError, match="valid recipes: paper, release"):
        profile_config("quick", "sysu", recipe="authors")


def test_where_the_paper_is_silent_the_paper_recipe_takes_the_releases_value() -> None:
    silent = {row.field for row in RECIPE_ROWS if row.silent == "release"}
    assert {"batch_p", "iters_a", "iters_b", "eval_flip", "kmeans_restarts", "kmeans_iters", "warmup_sampler"} <= silent
    for row in RECIPE_ROWS:
        if row.silent == "release":
            assert row.paper == row.release, row.field
        if row.silent == "reading":  # a kept reading says what in the paper's text decides it
            assert row.paper != row.release and "read" in row.source, row.field
    paper = profile_config("paper", "regdb")
    assert (paper.batch_p, paper.iters_a, paper.iters_b) == (8, 100, 100)
    assert (paper.eval_flip, paper.kmeans_restarts, paper.kmeans_iters) == (False, 10, 300)
    assert paper.warmup_sampler == "all_images"
    assert "| paper silent |" in recipe_table() and "| paper silent (reading kept) |" in recipe_table()
