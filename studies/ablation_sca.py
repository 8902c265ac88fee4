"""SCA ablation: which of the two alignment terms (L_intra, L_inter) carries stage C, on both datasets, and a
control for the GMM confidence weighting of CE.

The five variants differ only in stage C, so they share one stage A+B run per (dataset, seed) through the stage
cache. With both terms off, stage C trains plain CE + triplet: the paper's "+MMLM" row. The confidence weighting
turns on with either term (PipelineConfig.resolved_confidence), so `intra` and `inter` against `sca_off` each
change a term and the weighting; `confidence` (the weighting alone, both terms off) tells the two apart.
"""

from harness.spec import StudySpec, Variant

SPEC = StudySpec(
    name="ablation_sca",
    description="SCA terms: off / confidence weighting only / intra only / inter only / full, on SYSU-MM01 and RegDB",
    variants=(
        Variant("sca_off", {"intra": False, "inter": False}, paper_row="+MMLM", feature_space=True),
        Variant("confidence", {"intra": False, "inter": False, "confidence": True}),
        Variant("intra", {"intra": True, "inter": False}, paper_row="+MMLM+Intra"),
        Variant("inter", {"intra": False, "inter": True}, paper_row="+MMLM+Inter"),
        Variant("full", paper_row="full MMM"),
    ),
    reference="full",
)
