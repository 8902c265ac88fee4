"""Component ablation: the paper's table rows (CMC only, +MMLM, +MMLM+Intra, +MMLM+Inter, full MMM), plus MMM
without CMC, MMM with a single memory per cluster (centroid matching), and a control for stage C itself.

`stage_c_on_cmc` trains stage C as "+MMLM" does (CE + triplet, no SCA terms) but on CMC's own pooled clusters of
its last epoch, with no matching at all: against it, "+MMLM" shows what MMLM's matching adds, apart from what more
training adds (against "CMC only")."""

from harness.spec import StudySpec, Variant

SPEC = StudySpec(
    name="ablation_components",
    description="Paper ablation rows: CMC only, +MMLM, +Intra, +Inter, full MMM; plus no CMC, n=1 memory and stage C "
    "on CMC's labels",
    variants=(
        Variant("cmc_only", {"mmlm": False}, paper_row="CMC only", feature_space=True),
        Variant("stage_c_on_cmc", {"alignment_labels": "cmc_pooled", "intra": False, "inter": False}),
        Variant("mmlm", {"intra": False, "inter": False}, paper_row="+MMLM"),
        Variant("mmlm_intra", {"inter": False}, paper_row="+MMLM+Intra"),
        Variant("mmlm_inter", {"intra": False}, paper_row="+MMLM+Inter"),
        Variant("full", paper_row="full MMM"),
        Variant("no_cmc", {"cmc": False}),
        Variant("single_memory", {"memories": 1}),
    ),
    reference="full",
)
