"""MMLM's matching choices: Hungarian (paper) vs. greedy argmin (code), and the cost summed over the visible
memories (paper) vs. the infrared ones (code); beside them oracle_matching (uses identity labels), the same clusters
matched by majority identity: what a perfect matcher gives."""

from harness.spec import StudySpec, Variant

SPEC = StudySpec(
    name="matching",
    description="Cluster matching: Hungarian vs. greedy x cost summed over visible vs. infrared memories",
    variants=tuple(
        Variant(
            f"{solver}_{direction}",
            {"solver": solver, "cost_direction": direction},
            paper_row="full MMM" if (solver, direction) == ("hungarian", "visible") else "",
        )
        for solver in ("hungarian", "greedy")
        for direction in ("visible", "infrared")
    )
    + (Variant("oracle_matching", method="oracle_matching"),),
    reference="hungarian_visible",
)
