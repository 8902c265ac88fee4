"""MMM against the single-memory baselines built from its parts: DCL (two intra-modality memories) and centroid
Hungarian (one Hungarian round on cluster centroids per epoch: PGM-like, not PGM), above the floor of the untrained
backbone; and oracle_matching (uses identity labels: MMM's clusters matched by majority identity). With the report's
floor and ceiling rows the table reads as a decomposition: floor -> DCL -> MMM -> oracle_matching (what MMLM's
matching errors cost) -> identity-label ceiling (what the clustering errors cost)."""

from harness.spec import StudySpec, Variant

SPEC = StudySpec(
    name="baselines",
    description="Untrained floor, DCL and centroid-Hungarian (PGM-like) single-memory baselines vs. MMM, and MMM's "
    "clusters matched by majority identity (oracle_matching, uses identity labels)",
    variants=(
        Variant("untrained", method="untrained"),
        Variant("dcl", method="dcl", feature_space=True),
        Variant("centroid_hungarian", method="centroid_hungarian"),
        Variant("mmm", method="mmm", paper_row="full MMM"),
        Variant("oracle_matching", method="oracle_matching"),
    ),
    reference="mmm",
)
