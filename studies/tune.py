"""Hyper-parameter search with TPE over the SCA weights, the contrast temperature, the DBSCAN eps and the
memories per cluster, on the validation split (identities held out of training); trials whose intermediate
validation mAP falls below the running median are pruned."""

from harness.spec import ChoiceParam, FloatParam, StudySpec, Variant, tuning_profiles

SPEC = StudySpec(
    name="tune",
    description="TPE search over lambda_intra, lambda_inter, temperature, eps, memories on validation (median "
    "pruning on validation mAP)",
    variants=(Variant("mmm"),),
    reference="mmm",
    profiles=tuning_profiles(smoke=3, quick=12, paper=40),
    search_space={
        "lambda_intra": FloatParam(0.05, 2.0, log=True),
        "lambda_inter": FloatParam(0.005, 0.5, log=True),
        "temperature": FloatParam(0.02, 0.2, log=True),
        "eps": FloatParam(0.2, 0.8),
        "memories": ChoiceParam((1, 2, 4, 8)),
    },
)
