"""Study specifications: what a study runs (variants or a search space), on which datasets, with how many seeds
and RegDB trials per profile — and the checks that catch a malformed spec before any cell runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Mapping, Union

from harness.methods import METHOD_NAMES
from mmm.choices import DATASETS
from mmm.data.datasets import REGDB_TRIALS
from mmm.pipeline.config import PipelineConfig
from mmm.pipeline.profiles import PROFILES as PIPELINE_PROFILES

if TYPE_CHECKING:
    # Only the trial type: `--list` and `--help` read the specs and should not wait for Optuna to import.
    import optuna

# The pipeline's profiles (the module builds no model: the CLI and the specs check names without torch).
PROFILES: tuple[str, ...] = tuple(PIPELINE_PROFILES)
# Fields every cell sets itself: a variant or a search space may not fix them.
HARNESS_FIELDS = frozenset({"dataset", "seed"})
# Rows of the paper's component ablation (docs/design.md §3); a variant naming one lets reports set the published
# numbers beside it.
PAPER_ROWS = ("CMC only", "+MMLM", "+MMLM+Intra", "+MMLM+Inter", "full MMM")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
# Variant names become parts of cell ids ("full/sysu/seed0"), so no slashes or spaces.
_VARIANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")
# The one method that reads PipelineConfig.correspondence_noise (the others would ignore it silently).
NOISY_METHOD = "oracle_labels"


class StudyError(ValueError):
    """A study spec is malformed or unknown; the message lists what is wrong or what is valid."""


@dataclass(frozen=True)
class FloatParam:
    """A float searched in [low, high], log-uniformly when log is set."""

    low: float
    high: float
    log: bool = False

    def suggest(self, trial: optuna.Trial, name: str) -> float:
        return trial.suggest_float(name, self.low, self.high, log=self.log)

    def problems(self) -> list[str]:
        if not self.low < self.high:
            return [f"low {self.low} must be below high {self.high}"]
        if self.log and self.low <= 0:
            return [f"log scale needs low > 0, got {self.low}"]
        return []


@dataclass(frozen=True)
class IntParam:
    """An integer searched in [low, high]."""

    low: int
    high: int
    log: bool = False

    def suggest(self, trial: optuna.Trial, name: str) -> int:
        return trial.suggest_int(name, self.low, self.high, log=self.log)

    def problems(self) -> list[str]:
        return [] if self.low < self.high else [f"low {self.low} must be below high {self.high}"]


@dataclass(frozen=True)
class ChoiceParam:
    """One of a few values (numbers, strings or booleans)."""

    choices: tuple[Any, ...]

    def suggest(self, trial: optuna.Trial, name: str) -> Any:
        return trial.suggest_categorical(name, list(self.choices))

    def problems(self) -> list[str]:
        return [] if len(self.choices) >= 2 else [f"needs at least two choices, got {self.choices}"]


SearchParam = Union[FloatParam, IntParam, ChoiceParam]


@dataclass(frozen=True)
class Variant:
    """One row of a study: a method and the config fields it changes from the profile's defaults."""

    name: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    method: str = "mmm"
    paper_row: str = ""  # the published ablation row this variant reproduces (one of PAPER_ROWS), if any
    # Drawn in the report's feature-space pictures beside the reference variant, the floor and the ceiling.
    feature_space: bool = False


@dataclass(frozen=True)
class ProfilePlan:
    """How big a study is under one profile."""

    seeds: tuple[int, ...] = (0,)
    regdb_trials: tuple[int, ...] = (1,)  # RegDB splits (1..10), one model each
    n_trials: int = 0  # tuning studies: search trials per dataset
    overrides: Mapping[str, Any] = field(default_factory=dict)  # config fields on top of the profile's own


def _default_profiles() -> dict[str, ProfilePlan]:
    """Three seeds on the quick stand-ins, so every difference in its reports can be tested; one seed on smoke (CI)
    and at paper scale, where the ten RegDB splits, each a model of its own, give the pairs, as the paper does."""
    paper = ProfilePlan(regdb_trials=REGDB_TRIALS)
    return {"smoke": ProfilePlan(), "quick": ProfilePlan(seeds=(0, 1, 2)), "paper": paper, "release": paper}


def default_plan(profile: str) -> ProfilePlan:
    """The plan of `profile` in a study that keeps the defaults (which RegDB trials it runs, for instance)."""
    return _default_profiles()[profile]


def tuning_profiles(smoke: int, quick: int, paper: int) -> dict[str, ProfilePlan]:
    """Profiles of a tuning study: `n` search trials per dataset (the release profile, at paper scale, as many as
    paper), each one model with the first seed on the first RegDB split; the final phase then runs the choice and
    the defaults with every seed (two on smoke, to keep CI cheap; three elsewhere) and, at paper scale, on all ten
    RegDB splits."""
    seeds = {"smoke": (0, 1), "quick": (0, 1, 2), "paper": (0, 1, 2), "release": (0, 1, 2)}
    counts = {"smoke": smoke, "quick": quick, "paper": paper, "release": paper}
    splits = {"smoke": (1,), "quick": (1,), "paper": REGDB_TRIALS, "release": REGDB_TRIALS}
    return {name: ProfilePlan(seeds=seeds[name], regdb_trials=splits[name], n_trials=counts[name]) for name in counts}


@dataclass(frozen=True)
class StudySpec:
    """A whole study. With a search space it is a tuning study: its single variant is the base configuration
    the sampler's values are applied to, and each profile says how many trials to run per dataset."""

    name: str
    description: str
    variants: tuple[Variant, ...]
    reference: str  # the variant other rows are compared with
    datasets: tuple[str, ...] = DATASETS
    profiles: Mapping[str, ProfilePlan] = field(default_factory=_default_profiles)
    search_space: Mapping[str, SearchParam] = field(default_factory=dict)
    prune_after_trials: int = 3  # tuning: trials that always run to the end before the median pruner acts

    @property
    def is_tuning(self) -> bool:
        return bool(self.search_space)

    def variant(self, name: str) -> Variant:
        for variant in self.variants:
            if variant.name == name:
                return variant
        raise StudyError(f"study {self.name!r} has no variant {name!r}; valid: {[v.name for v in self.variants]}")

    def plan(self, profile: str) -> ProfilePlan:
        if profile not in self.profiles:
            raise StudyError(f"unknown profile {profile!r}; valid: {list(PROFILES)}")
        return self.profiles[profile]


def _config_problems(where: str, overrides: Mapping[str, Any]) -> list[str]:
    valid = {f.name for f in fields(PipelineConfig)}
    unknown = sorted(set(overrides) - valid)
    if unknown:
        return [f"{where}: unknown PipelineConfig field(s) {unknown}"]
    fixed = sorted(set(overrides) & HARNESS_FIELDS)
    if fixed:
        return [f"{where}: {fixed} are set per cell by the harness"]
    try:
        PipelineConfig().with_overrides(**overrides)
    except (TypeError, ValueError) as error:
        return [f"{where}: {error}"]
    return []


def _variant_problems(spec: StudySpec) -> list[str]:
    problems: list[str] = []
    names = [v.name for v in spec.variants]
    if not names:
        problems.append("no variants")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        problems.append(f"duplicate variant names {duplicates}")
    for variant in spec.variants:
        if not _VARIANT.match(variant.name):
            problems.append(f"variant name {variant.name!r}: letters, digits and _ . + - only")
        if variant.method not in METHOD_NAMES:
            problems.append(f"variant {variant.name!r}: unknown method {variant.method!r}; valid: {list(METHOD_NAMES)}")
        if variant.paper_row and variant.paper_row not in PAPER_ROWS:
            problems.append(f"variant {variant.name!r}: paper_row {variant.paper_row!r} is not one of {PAPER_ROWS}")
        problems += _config_problems(f"variant {variant.name!r}", variant.overrides)
        if "correspondence_noise" in variant.overrides and variant.method != NOISY_METHOD:
            problems.append(
                f"variant {variant.name!r}: correspondence_noise applies to method {NOISY_METHOD!r} only, "
                f"not {variant.method!r}"
            )
    if spec.reference not in names:
        problems.append(f"reference {spec.reference!r} is not a variant; variants: {names}")
    return problems


def _profile_problems(spec: StudySpec) -> list[str]:
    problems: list[str] = []
    if set(spec.profiles) != set(PROFILES):
        problems.append(f"profiles {sorted(spec.profiles)} must be exactly {list(PROFILES)}")
    for profile, plan in spec.profiles.items():
        where = f"profile {profile!r}"
        if not plan.seeds or len(set(plan.seeds)) != len(plan.seeds) or min(plan.seeds) < 0:
            problems.append(f"{where}: seeds must be distinct non-negative integers, got {plan.seeds}")
        if not plan.regdb_trials or not set(plan.regdb_trials) <= set(REGDB_TRIALS):
            problems.append(f"{where}: regdb_trials must be a non-empty subset of {list(REGDB_TRIALS)}")
        if spec.is_tuning and plan.n_trials < 1:
            problems.append(f"{where}: a tuning study needs n_trials >= 1")
        if not spec.is_tuning and plan.n_trials:
            problems.append(f"{where}: n_trials is for tuning studies (this one has no search space)")
        problems += _config_problems(f"{where} overrides", plan.overrides)
    return problems


def _search_problems(spec: StudySpec) -> list[str]:
    problems: list[str] = []
    if spec.is_tuning and len(spec.variants) != 1:
        problems.append("a tuning study has exactly one (base) variant")
    valid = {f.name for f in fields(PipelineConfig)}
    for name, param in spec.search_space.items():
        if name not in valid or name in HARNESS_FIELDS:
            problems.append(f"search space: {name!r} is not a searchable PipelineConfig field")
        problems += [f"search space {name!r}: {p}" for p in param.problems()]
    if spec.prune_after_trials < 0:
        problems.append(f"prune_after_trials must be >= 0, got {spec.prune_after_trials}")
    return problems


def validate_spec(spec: StudySpec) -> None:
    """Raise StudyError naming every problem of the spec at once."""
    problems: list[str] = []
    if not _NAME.match(spec.name):
        problems.append(f"name {spec.name!r}: lower-case letters, digits and _ only")
    if not spec.description.strip():
        problems.append("empty description")
    if not spec.datasets or not set(spec.datasets) <= set(DATASETS) or len(set(spec.datasets)) != len(spec.datasets):
        problems.append(f"datasets {spec.datasets} must be distinct names from {list(DATASETS)}")
    problems += _variant_problems(spec) + _profile_problems(spec) + _search_problems(spec)
    if problems:
        raise StudyError(f"study {spec.name!r} is invalid: " + "; ".join(problems))
