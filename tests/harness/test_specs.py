"""Study specs load, validate, and expand into the right cells; malformed specs are rejected with reasons."""

from __future__ import annotations

import pytest

from harness.cells import plan_cells
from harness.registry import list_studies, load_study
from harness.spec import (
    PROFILES,
    ChoiceParam,
    FloatParam,
    ProfilePlan,
    StudyError,
    StudySpec,
    Variant,
    validate_spec,
)
from mmm.pipeline.profiles import profile_config

EXPECTED_STUDIES = {
    "smoke",
    "ablation_sca",
    "ablation_components",
    "memories",
    "baselines",
    "matching",
    "tune",
    "recipes",
    "noise",
}


def test_every_study_module_loads_and_validates() -> None:
    assert set(list_studies()) == EXPECTED_STUDIES
    for name in list_studies():
        spec = load_study(name)
        assert spec.name == name
        assert spec.reference in {v.name for v in spec.variants}


def test_unknown_study_error_lists_the_valid_names() -> None:
    with pytest.raises(StudyError, match="unknown study 'nope'.*ablation_sca.*tune"):
        load_study("nope")


def test_ablation_sca_cells_cover_variants_datasets_and_regdb_splits() -> None:
    spec = load_study("ablation_sca")
    quick = plan_cells(spec, "quick", datasets=("sysu", "regdb"))
    assert len(quick) == 5 * 2 * 3
    assert {c.seed for c in quick} == {0, 1, 2}
    paper = plan_cells(spec, "paper", datasets=("sysu", "regdb"))
    assert len(paper) == 5 * (1 + 10)
    assert len({c.id for c in paper}) == len(paper)
    assert {c.variant for c in paper} == {"sca_off", "confidence", "intra", "inter", "full"}


def test_the_confidence_control_is_the_weighting_alone() -> None:
    spec = load_study("ablation_sca")
    configs = {v.name: profile_config("quick", "sysu", **v.overrides) for v in spec.variants}
    control, off = configs["confidence"], configs["sca_off"]
    assert control.resolved_confidence and not off.resolved_confidence
    assert not control.intra and not control.inter
    changed = {k for k, v in control.to_dict().items() if off.to_dict()[k] != v}
    assert changed == {"confidence"}
    # Either term alone turns the weighting on too: the control is what separates the two.
    assert configs["intra"].resolved_confidence and configs["inter"].resolved_confidence


def test_the_stage_c_control_trains_on_cmcs_labels_as_mmlm_trains_on_matched_ones() -> None:
    spec = load_study("ablation_components")
    configs = {v.name: profile_config("quick", "sysu", **v.overrides) for v in spec.variants}
    control, mmlm = configs["stage_c_on_cmc"], configs["mmlm"]
    changed = {k for k, v in control.to_dict().items() if mmlm.to_dict()[k] != v}
    assert changed == {"alignment_labels"} and control.alignment_labels == "cmc_pooled"


def test_seeds_override_and_dataset_subset() -> None:
    spec = load_study("memories")
    cells = plan_cells(spec, "quick", datasets=("sysu",), seeds=range(3))
    variants = len(spec.variants)
    assert [c.seed for c in cells] == [0] * variants + [1] * variants + [2] * variants
    assert {c.dataset for c in cells} == {"sysu"}


def test_cells_sharing_stages_a_and_b_are_adjacent() -> None:
    cells = plan_cells(load_study("ablation_sca"), "quick", datasets=("sysu", "regdb"))
    keys = [(c.dataset, c.seed, c.regdb_trial) for c in cells]
    runs_of_equal_keys = [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]
    assert len(runs_of_equal_keys) == len(set(keys))


def test_tuning_study_has_one_cell_per_trial_slot_and_dataset() -> None:
    spec = load_study("tune")
    cells = plan_cells(spec, "smoke", datasets=spec.datasets)
    assert spec.is_tuning
    assert [c.slot for c in cells] == [0, 1, 2, 0, 1, 2]
    assert cells[-1].id == "mmm/regdb/seed0/trial1/slot002"


def test_baselines_study_runs_the_floor_two_baselines_mmm_and_oracle_matching() -> None:
    methods = [v.method for v in load_study("baselines").variants]
    assert methods == ["untrained", "dcl", "centroid_hungarian", "mmm", "oracle_matching"]


@pytest.mark.parametrize("study", ["baselines", "matching", "memories"])
def test_oracle_matching_is_a_variant_of_the_matching_studies_with_the_profile_config(study: str) -> None:
    oracle = load_study(study).variant("oracle_matching")
    assert oracle.method == "oracle_matching" and not oracle.overrides


def _spec(**changes: object) -> StudySpec:
    fields = dict(
        name="demo", description="demo study", variants=(Variant("a"), Variant("b", {"intra": False})), reference="a"
    )
    fields.update(changes)
    return StudySpec(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"variants": (Variant("a", {"no_such_field": 1}),)}, "unknown PipelineConfig field"),
        ({"variants": (Variant("a", {"seed": 3}),)}, "set per cell by the harness"),
        ({"variants": (Variant("a", {"memories": 0}),)}, "memories"),
        ({"variants": (Variant("a", method="nope"),)}, "unknown method 'nope'"),
        ({"variants": (Variant("a", {"correspondence_noise": 0.5}),)}, "applies to method 'oracle_labels' only"),
        ({"variants": (Variant("a", {"correspondence_noise": 1.5}, method="oracle_labels"),)}, "fraction in"),
        ({"variants": (Variant("a"), Variant("a"))}, "duplicate variant"),
        ({"variants": (Variant("a/b"),), "reference": "a/b"}, "letters, digits"),
        ({"reference": "zzz"}, "reference 'zzz' is not a variant"),
        ({"datasets": ("market",)}, "datasets"),
        ({"profiles": {"quick": ProfilePlan()}}, "profiles"),
        ({"profiles": {p: ProfilePlan(regdb_trials=(11,)) for p in PROFILES}}, "regdb_trials"),
        ({"search_space": {"eps": FloatParam(0.5, 0.1)}}, "low 0.5 must be below"),
        ({"search_space": {"memories": ChoiceParam((4,))}, "variants": (Variant("a"),)}, "n_trials"),
        ({"search_space": {"dataset": ChoiceParam(("sysu", "regdb"))}}, "not a searchable"),
    ],
)
def test_malformed_specs_are_rejected_with_the_reason(changes: dict, message: str) -> None:
    with pytest.raises(StudyError, match=message):
        validate_spec(_spec(**changes))


def test_a_well_formed_spec_passes() -> None:
    validate_spec(_spec())


def test_the_noise_study_crosses_every_noise_level_with_every_sca_setting() -> None:
    spec = load_study("noise")
    curves = [v for v in spec.variants if v.method == "oracle_labels"]
    assert len(curves) == 16 and spec.reference == "r0_full"
    assert {(v.overrides["correspondence_noise"], v.overrides["intra"], v.overrides["inter"]) for v in curves} == {
        (r, intra, inter) for r in (0.0, 0.25, 0.5, 0.75) for intra in (False, True) for inter in (False, True)
    }
    assert {v.method for v in spec.variants} == {"oracle_labels", "mmm", "centroid_hungarian"}
    # The clean full-SCA cell has the profile's own config: it is the ceiling.
    assert spec.variant("r0_full").overrides == {"correspondence_noise": 0.0, "intra": True, "inter": True}
