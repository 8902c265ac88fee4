"""Seconds-long study for CI and tests: full MMM and MMM without SCA terms on both datasets, one seed."""

from harness.spec import StudySpec, Variant

SPEC = StudySpec(
    name="smoke",
    description="CI check: full MMM vs. no SCA terms on both datasets, tiny sizes",
    variants=(
        Variant("full", paper_row="full MMM"),
        Variant("sca_off", {"intra": False, "inter": False}, paper_row="+MMLM", feature_space=True),
    ),
    reference="full",
)
