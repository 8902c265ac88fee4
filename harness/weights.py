"""The starting weights of a study's cells, resolved once before anything runs: `--pretrained` (or the profile's
default) for each backbone the cells use, checked and, for a run, fetched; its identity (file and sha256) is
part of the run key and of provenance.

A run that cannot get its weights stops before training with one line saying which file is missing, where it
was looked for and where it would come from; one whose file is not a readable state dict, or holds NaN or inf
values, stops there too, naming the file and the first bad tensor. A dry run or a report never downloads: it says
what a run would use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

from harness.cells import Cell
from harness.environment import cell_config
from harness.errors import SetupError
from harness.spec import StudySpec
from mmm.models.pretrained import IMAGENET, NONE, PretrainedError, WeightFile, resolve_pretrained
from mmm.models.weights import read_state_dict

SHA_CHARS = 12


class WeightsError(SetupError):
    """The starting weights of a run cannot be resolved; the message says what to do."""


@dataclass(frozen=True)
class StartingWeights:
    """What the cells start from: the choice and, unless it is `none`, the verified file."""

    choice: str  # "imagenet", "none" or a path
    backbone: str
    file: WeightFile | None

    @property
    def identity(self) -> str:
        """Short and stable: "none", or "<imagenet|file>@<sha256 prefix>"."""
        if self.file is None:
            return NONE
        kind = IMAGENET if self.choice == IMAGENET else "file"
        return f"{kind}@{self.file.sha256[:SHA_CHARS]}"

    def as_provenance(self) -> dict[str, Any]:
        record: dict[str, Any] = {"choice": self.choice, "backbone": self.backbone}
        if self.file is not None:
            record.update(self.file.as_dict())
        return record


def cells_starting_weights(
    spec: StudySpec,
    profile: str,
    cells: Sequence[Cell],
    run_overrides: Mapping[str, Any],
    *,
    download: bool,
) -> list[StartingWeights]:
    """The verified starting points of `cells` (each cell's backbone and pretrained choice, after the command's
    overrides such as --pretrained)."""
    starts = {
        (config.backbone, config.pretrained)
        for config in (cell_config(spec, profile, cell, run_overrides=run_overrides) for cell in cells)
    }
    return resolve_starting_weights(starts, download=download)


def resolve_starting_weights(backbones: Iterable[tuple[str, str]], *, download: bool) -> list[StartingWeights]:
    """The starting points of the cells, one per distinct (backbone, pretrained) pair they use, each verified."""
    from mmm.models.factory import backbone_preset

    resolved = []
    for backbone, choice in sorted(set(backbones)):
        try:
            file = resolve_pretrained(choice, backbone_preset(backbone).imagenet, backbone, download=download)
            if file is not None and download:
                # A run reads the file now, so a broken one (not a state dict, NaN or inf values) stops it here.
                read_state_dict(file.path)
        except (PretrainedError, ValueError) as error:
            raise WeightsError(str(error)) from None
        resolved.append(StartingWeights(choice, backbone, file))
    return resolved


def weights_identity(starts: Iterable[StartingWeights]) -> str:
    """The run key's part for starting weights: the identities of every start the cells use."""
    return "+".join(sorted({start.identity for start in starts})) or NONE
