"""The two recipes: `paper` (the method as the ECCV 2024 paper describes it) and `release` (as the authors' released
code, shijiangming1/MMM, runs it; that code produced the published numbers).

Each row names one config field where the two differ or where the paper is silent, its value in each recipe and
where the value comes from. Where the paper states no value, the paper recipe takes the release's (the row is marked
"paper silent"), except in the few rows marked as a kept reading, whose source says what in the paper's text decides
them. Method rows apply in every profile. Scale rows (batch sizes, lengths) apply only at paper scale (the `paper`
and `release` profiles); the CPU profiles set their own sizes for both recipes. docs/recipes.md is generated from
this table (`python -m mmm.pipeline.recipes`), and a test keeps the two equal.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Literal

from mmm.choices import RECIPES

# What the paper says of a row's field: "" it states a value; "release" it is silent and the paper recipe takes the
# release's value; "reading" it is silent and the paper recipe keeps a reading of the paper's text, given in source.
Silence = Literal["", "release", "reading"]
SILENCE_LABELS = {"": "", "release": "paper silent", "reading": "paper silent (reading kept)"}


@dataclass(frozen=True)
class RecipeRow:
    field: str  # PipelineConfig field
    paper: Any  # value in the paper recipe; a {"sysu": .., "regdb": ..} dict when it depends on the dataset
    release: Any  # value in the release recipe, same form
    source: str  # where each value comes from: paper section or equation, release file and function
    scale: bool = False  # a size or length: applied at paper scale only
    silent: Silence = ""  # whether (and how) the paper leaves this field unstated

    def value(self, recipe: str, dataset: str) -> Any:
        value = self.paper if recipe == "paper" else self.release
        return value[dataset] if isinstance(value, dict) else value


RECIPE_ROWS: tuple[RecipeRow, ...] = (
    RecipeRow(
        "camera_aware",
        False,
        True,
        "paper: P×K batches, nothing about cameras; release Baseline.py get_train_loader_*: "
        "RandomMultipleGallerySampler draws an anchor, then K−1 instances from other cameras",
    ),
    RecipeRow(
        "cmc_second_step",
        "none",
        "hybrid_batch",
        "paper Eq. of L_CMC: one loss L_V + L_R + L_VR; release clustercontrast/trainers.py "
        "ClusterContrastTrainerJoint.train: a second optimiser step on the hybrid memory over batches from "
        "the train_loader_all_* loaders (pooled clusters)",
    ),
    RecipeRow(
        "solver",
        "hungarian",
        "greedy",
        "paper §MMLM: Hungarian assignment with a second round; release mmlm.py: per-cluster argmin",
    ),
    RecipeRow(
        "cost_direction",
        "visible",
        "infrared",
        "paper §MMLM: cost summed over the visible memories; release mmlm.py: over the infrared ones",
    ),
    RecipeRow(
        "mmlm_skip_last",
        False,
        False,
        "release mmlm.py's greedy loop stops one cluster short in each modality (a defect); off in both "
        "recipes, a toggle to measure it",
    ),
    RecipeRow(
        "alignment_start",
        "continue",
        "fresh",
        "paper §SCA: trains on the matched labels (read as continuing); release main.py builds a new "
        "ImageNet embed_net for stage C",
    ),
    RecipeRow(
        "epoch_length_c",
        "iterations",
        "full_pass",
        "paper: gives stage C's epochs, not its steps; stages A and B count iterations per epoch, so stage C is "
        "read to as well; release main.py: IdentitySampler, one pass over the data per epoch",
        silent="reading",
    ),
    RecipeRow(
        "loss_feature",
        "bn_normalised",
        "pooled",
        "paper: writes every loss on one feature of a sample, read as the BN-neck feature its classifier and "
        "its evaluation use; release main.py train(): triplet, L_SM and L_MD on net()'s first output, the pooled "
        "feature before the BN neck",
        silent="reading",
    ),
    RecipeRow("intra_distance", "l2sq", "l1", "paper Eq. L_intra: squared L2; release main.py: nn.L1Loss"),
    RecipeRow(
        "intra_confidence",
        False,
        True,
        "paper Eq. L_intra: confidence enters the prototypes only; release main.py train(): each L1 term "
        "times the sample's GMM probability",
    ),
    RecipeRow(
        "intra_reduction",
        "batch_mean",
        "modality_sum",
        "paper Eq. L_intra: mean over the batch; release main.py train(): visible (two views halved) and "
        "infrared sums, each over the per-view batch size, added",
    ),
    RecipeRow(
        "inter_form",
        "half_symmetric",
        "four_term",
        "paper Eq. L_inter: ½ of the two directions; release main.py train(): MMD for view 1 and view 2 "
        "against infrared in both directions, summed, no ½",
    ),
    RecipeRow(
        "inter_start_epoch",
        15,
        0,
        "paper §Implementation: L_inter from epoch 15; release main.py train(): `if epoch >= 0`",
    ),
    RecipeRow(
        "sample_states",
        "clean_eval",
        "augmented_train",
        "paper §SCA: per-sample losses and prototypes of the training images; release main.py eval_train(): "
        "train-mode pass over augmented views, each view min-max normalised, prototypes per view",
    ),
    RecipeRow(
        "gmm_max_iter",
        10,
        100,
        "paper cites DivideMix (max_iter 10); release main.py eval_train(): GaussianMixture(max_iter=100)",
    ),
    RecipeRow(
        "neck_lr",
        "backbone",
        "head",
        "paper: lr 0.1 head, 0.01 backbone; release main.py: net.bottleneck in the 0.1 group",
    ),
    RecipeRow(
        "classifier_init",
        "normal",
        "normal",
        "paper: not stated; release model.py: weights_init_classifier, N(0, 0.001)",
        silent="release",
    ),
    RecipeRow(
        "warmup_sampler",
        "all_images",
        "all_images",
        "paper §Implementation: plain CE in the first epochs, batches not stated; release main.py: the warm-up "
        "epochs draw from AllSampler, every labelled image of each modality shuffled on its own",
        silent="release",
    ),
    RecipeRow(
        "kmeans_restarts",
        10,
        10,
        "paper §MMLM: k-means into n sub-clusters, no settings; release mmlm.py: KMeans(n_clusters=4, "
        "random_state=0) under scikit-learn 1.2.2 (environment.yml), whose n_init defaults to 10 k-means++ starts "
        "('auto' only from 1.4)",
        silent="release",
    ),
    RecipeRow(
        "eval_flip",
        False,
        False,
        "paper: not stated; release main.py test(): one forward pass per test image, no mirrored copy",
        silent="release",
    ),
    RecipeRow(
        "batch_p",
        8,
        8,
        "paper: not stated; release Baseline.py: batch 128, num_instances 16 (8 × 16)",
        scale=True,
        silent="release",
    ),
    RecipeRow(
        "iters_a",
        {"sysu": 200, "regdb": 100},
        {"sysu": 200, "regdb": 100},
        "paper: not stated; release README: Baseline.py --iters 200 (SYSU), --iters 100 (RegDB)",
        scale=True,
        silent="release",
    ),
    RecipeRow(
        "iters_b",
        {"sysu": 200, "regdb": 100},
        {"sysu": 200, "regdb": 100},
        "as iters_a (one Baseline.py run does both stages)",
        scale=True,
        silent="release",
    ),
    RecipeRow(
        "kmeans_iters",
        300,
        300,
        "paper: not stated; release mmlm.py: scikit-learn 1.2.2 KMeans, max_iter 300 (ours stops as soon as no "
        "assignment changes, scikit-learn on a centre shift below tol 1e-4)",
        scale=True,
        silent="release",
    ),
    RecipeRow(
        "epochs_c", 80, 100, "paper §Implementation: 80 epochs; release main.py: range(start_epoch, 100)", scale=True
    ),
    RecipeRow(
        "batch_p_c", 8, 6, "paper §Implementation: 8 × 4; release main.py: --batch-size 6, --num_pos 4", scale=True
    ),
)


def recipe_overrides(recipe: str, dataset: str, scale: bool) -> dict[str, Any]:
    """The config fields `recipe` sets for `dataset`; the scale rows too when `scale` (paper-scale profiles)."""
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; valid recipes: {', '.join(RECIPES)}")
    return {row.field: row.value(recipe, dataset) for row in RECIPE_ROWS if scale or not row.scale}


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return " / ".join(f"{dataset} {item}" for dataset, item in value.items())
    return f"`{value}`"


def recipe_table() -> str:
    """docs/recipes.md: the recipe rows as a markdown table."""
    lines = [
        "# Recipes: `paper` and `release`",
        "",
        "Generated from `mmm/pipeline/recipes.py` by `python -m mmm.pipeline.recipes > docs/recipes.md`;",
        "do not edit by hand.",
        "Select a recipe with `--recipe paper|release`; the `release` profile is paper scale with the release",
        "recipe. Scale rows apply at paper scale only; the quick and smoke profiles set their own sizes.",
        "",
        "Rows marked paper silent: the paper states no value and the paper recipe takes the release's; a kept",
        "reading: the paper states no value either, and its source says what in the paper's text decides it.",
        "",
        "| field | paper | release | paper says | scale | source |",
        "|---|---|---|---|---|---|",
    ]
    for row in RECIPE_ROWS:
        lines.append(
            f"| `{row.field}` | {_cell(row.paper)} | {_cell(row.release)} | {SILENCE_LABELS[row.silent]} "
            f"| {'yes' if row.scale else ''} | {row.source} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(recipe_table())
