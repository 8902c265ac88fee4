"""MMM against the single-memory baselines built from its parts: DCL (two intra-modality memories) and centroid
Hungarian (one Hungarian round on cluster centroids per epoch: PGM-like, not PGM), above the floor of the untrained
backbone."""

from harness.spec import StudySpec, Variant

SPEC = StudySpec(
    name="baselines",
    description="Untrained floor, DCL and centroid-Hungarian (PGM-like) single-memory baselines vs. MMM",
    variants=(
        Variant("untrained", method="untrained"),
        Variant("dcl", method="dcl"),
        Variant("centroid_hungarian", method="centroid_hungarian"),
        Variant("mmm", method="mmm", paper_row="full MMM"),
    ),
    reference="mmm",
)
