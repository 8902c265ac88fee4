"""How a network's forward pass runs on its device: the precision (float32, or bfloat16 autocast) and the memory
layout (channels-last on every device: cuDNN's and oneDNN's convolutions are fastest in it; on the CPU the quick
profile's training step takes about 0.8 times as long, and its eval pass 0.7 times, as in the default layout).

Only the network's forward runs under autocast. GeM pooling turns autocast off and works in float32
(mmm.models.layers.GeM), so the pooled and BN-neck features, and everything computed from them (memory logits,
MMD, the losses), are float32. `configure_device` holds the process-wide CUDA settings (determinism, cuDNN
autotuning, TF32).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import ContextManager

import torch

from mmm.choices import PRECISIONS, Precision


def default_precision(device: torch.device) -> Precision:
    """bf16 on CUDA, fp32 elsewhere."""
    return "bf16" if device.type == "cuda" else "fp32"


@dataclass(frozen=True)
class ForwardNumerics:
    device: torch.device
    precision: Precision = "fp32"

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")

    @classmethod
    def of(cls, device: torch.device | str, precision: Precision | None) -> "ForwardNumerics":
        """The numerics of `device` with `precision`, or the device's default precision for None."""
        device = torch.device(device)
        return cls(device, precision or default_precision(device))

    def autocast(self) -> ContextManager[object]:
        """The context a forward pass runs in: bfloat16 autocast for bf16, nothing for fp32."""
        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    @property
    def memory_format(self) -> torch.memory_format:
        return torch.channels_last

    def layout(self, batch: torch.Tensor) -> torch.Tensor:
        """A 4-D input batch in the forward's layout."""
        return batch.contiguous(memory_format=self.memory_format)

    @property
    def key(self) -> str:
        """What the numbers depend on besides the computation: the device kind and the precision ("cpu/fp32",
        "cuda/bf16"), a part of every stored result's key."""
        return f"{self.device.type}/{self.precision}"


# cuBLAS's deterministic workspace setting (CUDA docs, "Results reproducibility"): read when cuBLAS starts.
CUBLAS_WORKSPACE_CONFIG = ":4096:8"


def configure_device(device: torch.device, deterministic: bool) -> None:
    """The process-wide CUDA settings of a run on `device`; nothing changes for another device.

    deterministic: deterministic algorithms (an operation without one warns, naming itself), no cuDNN autotuning,
    and cuBLAS's deterministic workspace (CUBLAS_WORKSPACE_CONFIG, set here unless already set; cuBLAS reads it
    when it first starts in the process, so the command line sets it before any CUDA work). Otherwise cuDNN picks
    the fastest algorithm per shape (cudnn.benchmark). Either way float32 matrix products and convolutions may use
    TF32 tensor cores.
    """
    if device.type != "cuda":
        return
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE_CONFIG)
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    torch.backends.cudnn.deterministic = deterministic
    torch.backends.cudnn.benchmark = not deterministic
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
