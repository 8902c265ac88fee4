"""The two recipes side by side: the paper as written against the authors' released code (docs/recipes.md), and
the paper recipe with one release choice each, for the differences that matter most: stage C's starting network,
the feature stage C's triplet and SCA terms use, and MMLM's solver with its cost direction."""

from harness.spec import StudySpec, Variant

SPEC = StudySpec(
    name="recipes",
    description="paper vs. release recipe, and the paper recipe with single release choices",
    variants=(
        Variant("paper", {"recipe": "paper"}, paper_row="full MMM"),
        Variant("release", {"recipe": "release"}),
        Variant("paper+fresh_start", {"recipe": "paper", "alignment_start": "fresh"}),
        Variant("paper+pooled_feature", {"recipe": "paper", "loss_feature": "pooled"}),
        Variant("paper+greedy_infrared", {"recipe": "paper", "solver": "greedy", "cost_direction": "infrared"}),
    ),
    reference="paper",
)
