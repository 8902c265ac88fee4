"""SCA ablation: which of the two alignment terms (L_intra, L_inter) carries stage C, on both datasets.

The four variants differ only in stage C, so they share one stage A+B run per (dataset, seed) through the
stage cache. With both terms off, stage C trains plain CE + triplet: the paper's "+MMLM" row.
"""

from harness.spec import StudySpec, Variant

SPEC = StudySpec(
    name="ablation_sca",
    description="SCA terms: off / intra only / inter only / full, on SYSU-MM01 and RegDB",
    variants=(
        Variant("sca_off", {"intra": False, "inter": False}, paper_row="+MMLM"),
        Variant("intra", {"intra": True, "inter": False}, paper_row="+MMLM+Intra"),
        Variant("inter", {"intra": False, "inter": True}, paper_row="+MMLM+Inter"),
        Variant("full", paper_row="full MMM"),
    ),
    reference="full",
)
