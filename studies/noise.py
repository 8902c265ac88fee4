"""Correspondence noise: stage C on the true identities (the oracle_labels reference) with a fraction r of the
identities' visible -> infrared correspondences deranged (exactly round(r·K) of the K training identities move, whole
identities swapped, seeded; baselines.identity_labels), under each SCA setting, to test the paper's claim that SCA's
soft terms soften noisy correspondences whatever the matcher achieves.

MMM and the centroid-Hungarian baseline run beside the curves: the report marks each on the r axis at one minus its
measured cluster matching accuracy (mmm.diagnostics.pseudo_labels.matching_accuracy, which on these labels is exactly
1 − moved / K), so a reader sees where real matchers sit. r = 0 with full SCA is the profile's ceiling, served from
the same record.
"""

from harness.spec import StudySpec, Variant

NOISE_LEVELS = (0.0, 0.25, 0.5, 0.75)
# The SCA settings of ablation_sca, stated in full so each variant's parameters name its place on the curves.
SCA_SETTINGS = {
    "sca_off": {"intra": False, "inter": False},
    "intra": {"intra": True, "inter": False},
    "inter": {"intra": False, "inter": True},
    "full": {"intra": True, "inter": True},
}


def noise_variant(level: float, setting: str) -> Variant:
    return Variant(
        f"r{level:g}_{setting}",
        {"correspondence_noise": level, **SCA_SETTINGS[setting]},
        method="oracle_labels",
    )


SPEC = StudySpec(
    name="noise",
    description="Stage C on the true identities with r = 0, 0.25, 0.5, 0.75 of the correspondences deranged, "
    "SCA off / intra / inter / full (uses identity labels); MMM and centroid Hungarian marked at their matching "
    "accuracy",
    variants=tuple(noise_variant(level, setting) for level in NOISE_LEVELS for setting in SCA_SETTINGS)
    + (
        Variant("mmm", method="mmm", paper_row="full MMM"),
        Variant("centroid_hungarian", method="centroid_hungarian"),
    ),
    reference="r0_full",
)
