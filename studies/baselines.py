"""MMM against the single-memory baselines built from its parts: DCL (two intra-modality memories) and a
PGM-style method (centroid Hungarian matching), above the floor of the untrained backbone."""

from harness.spec import StudySpec, Variant

SPEC = StudySpec(
    name="baselines",
    description="Untrained floor, DCL and PGM-style single-memory baselines vs. MMM",
    variants=(
        Variant("untrained", method="untrained"),
        Variant("dcl", method="dcl"),
        Variant("pgm", method="pgm"),
        Variant("mmm", method="mmm", paper_row="full MMM"),
    ),
    reference="mmm",
)
