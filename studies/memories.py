"""Memories per cluster: n = 1 (centroid matching, the single-memory counterpart), 2, 4 (paper) and 8; beside them
oracle_matching (uses identity labels), the same clusters matched by majority identity: what a perfect matcher gives."""

from harness.spec import StudySpec, Variant

SPEC = StudySpec(
    name="memories",
    description="MMLM memories per cluster n = 1, 2, 4, 8 (n=1 is centroid matching)",
    variants=tuple(
        Variant(f"n{n}", {"memories": n}, paper_row="full MMM" if n == 4 else "", feature_space=n == 1)
        for n in (1, 2, 4, 8)
    )
    + (Variant("oracle_matching", method="oracle_matching"),),
    reference="n4",
)
