"""Component ablation: the paper's table rows (CMC only, +MMLM, +MMLM+Intra, +MMLM+Inter, full MMM), plus MMM
without CMC and MMM with a single memory per cluster (centroid matching)."""

from harness.spec import StudySpec, Variant

SPEC = StudySpec(
    name="ablation_components",
    description="Paper ablation rows: CMC only, +MMLM, +Intra, +Inter, full MMM; plus no CMC and n=1 memory",
    variants=(
        Variant("cmc_only", {"mmlm": False}, paper_row="CMC only"),
        Variant("mmlm", {"intra": False, "inter": False}, paper_row="+MMLM"),
        Variant("mmlm_intra", {"inter": False}, paper_row="+MMLM+Intra"),
        Variant("mmlm_inter", {"intra": False}, paper_row="+MMLM+Inter"),
        Variant("full", paper_row="full MMM"),
        Variant("no_cmc", {"cmc": False}),
        Variant("single_memory", {"memories": 1}),
    ),
    reference="full",
)
