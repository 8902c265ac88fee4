"""Reading a local torchvision-format state-dict file and loading it strictly into a module.

Nothing is ever downloaded: the user passes the path of a file saved with `torch.save(model.state_dict(), path)`.
Every mismatch is reported at once, naming the file and the offending keys, so a wrong file fails loudly; a file
holding NaN or inf values is refused, naming the first such tensor.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

logger = logging.getLogger(__name__)

MAX_KEYS_SHOWN = 10


class WeightFileError(ValueError):
    """A weight file is missing, unreadable, or does not match the module it is loaded into."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def _show(keys: list[str]) -> str:
    shown = ", ".join(keys[:MAX_KEYS_SHOWN])
    more = len(keys) - MAX_KEYS_SHOWN
    return shown + (f" (and {more} more)" if more > 0 else "")


def read_state_dict(path: Path | str) -> dict[str, torch.Tensor]:
    """The tensors of a state-dict file, on the CPU; raises WeightFileError if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise WeightFileError(path, "no such weight file")
    try:
        # weights_only refuses pickled code, so an untrusted file cannot run anything on load.
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise WeightFileError(path, f"not a readable torch state-dict file ({error})") from error
    if not isinstance(state, Mapping):
        raise WeightFileError(path, f"expected a dict of tensors, found {type(state).__name__}")
    not_tensors = [str(key) for key, value in state.items() if not isinstance(value, torch.Tensor)]
    if not_tensors:
        raise WeightFileError(path, f"entries that are not tensors: {_show(not_tensors)}")
    # A network started from NaN or inf weights gives non-finite features everywhere; refuse the file here.
    non_finite = [str(key) for key, value in state.items() if value.is_floating_point() and not value.isfinite().all()]
    if non_finite:
        raise WeightFileError(
            path, f"tensor {non_finite[0]!r} holds NaN or inf ({len(non_finite)} of {len(state)} tensors do)"
        )
    return dict(state)


def check_state_dict(state: Mapping[str, torch.Tensor], expected: Mapping[str, torch.Tensor], path: Path | str) -> None:
    """Raise WeightFileError listing missing keys, unexpected keys and shape mismatches, if there are any."""
    missing = [key for key in expected if key not in state]
    unexpected = [key for key in state if key not in expected]
    mismatched = [
        f"{key} (file {tuple(state[key].shape)}, model {tuple(expected[key].shape)})"
        for key in expected
        if key in state and state[key].shape != expected[key].shape
    ]
    problems = []
    if missing:
        problems.append(f"missing keys: {_show(missing)}")
    if unexpected:
        problems.append(f"unexpected keys: {_show(unexpected)}")
    if mismatched:
        problems.append(f"shape mismatches: {_show(mismatched)}")
    if problems:
        raise WeightFileError(path, "state dict does not match the model; " + "; ".join(problems))


def load_weights(module: nn.Module, path: Path | str) -> None:
    """Load a state-dict file into `module`, requiring the exact same keys and shapes."""
    state = read_state_dict(path)
    check_state_dict(state, module.state_dict(), path)
    module.load_state_dict(state, strict=True)
    logger.info("loaded %d tensors from %s into %s", len(state), path, type(module).__name__)
