"""What, besides the cell itself, decides whether a stored run answers for a cell: the profile (run sizes), the
starting weights and the exact data each dataset was read from. Runs that differ in any of these are kept
apart (in separate Optuna studies of one storage and in separate result folders of one --out), so a cell done
under one is never counted done under another. A recipe other than the profile's own (`--recipe`), a precision
other than float32 (`--precision bf16`) and a parameters file (`--params`) are more parts of both names, and a
tuning study's validation rule (mmm.data.validation) one more part of its Optuna studies' names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping


@dataclass(frozen=True)
class RunKey:
    profile: str
    # dataset -> "<kind>@<fingerprint>": the data source kind and a hash of what was read (harness.data_source)
    data: Mapping[str, str] = field(hash=False)
    # "none" or "<imagenet|file>@<sha256 prefix>" (harness.weights.StartingWeights.identity)
    weights: str
    # None: the profile's own recipe (mmm.pipeline.profiles.default_recipe); else the recipe --recipe chose
    recipe: str | None = None
    # None: float32, as every run before --precision; else the precision --precision chose ("bf16")
    precision: str | None = None
    # a tuning study: "val@<hash>" of how its validation splits are drawn (mmm.data.validation.validation_identity);
    # None for studies that are only scored on test
    validation: str | None = None
    # "params@<hash>" of a --params file's fields (harness.params_file); None without one
    params: str | None = None

    @property
    def _run(self) -> str:
        return "+".join(part for part in (self.profile, self.recipe, self.precision, self.params) if part is not None)

    def study_name(self, study: str, dataset: str) -> str:
        """The Optuna study holding the cells of `study` on `dataset` under this key."""
        name = f"{study}:{self._run}:{self.weights}:{self.data[dataset]}:{dataset}"
        return name if self.validation is None else f"{name}:{self.validation}"

    @property
    def folder(self) -> str:
        """The results folder under `<out>/<study>/`: one per profile (and recipe, and parameters file), so they
        never overwrite each other's tables; runs on other data under one profile replace the tables (and
        provenance) along with the numbers."""
        return self._run
