"""Peak memory of one benchmarked step, measured by running it once more in a fresh spawned process.

Why a child process and /proc: only the kernel's resident-set high-water mark sees every allocation (numpy,
scipy, torch's and faiss's C++ heaps alike; tracemalloc sees numpy but not faiss or torch), and the pytest
process has long since peaked on earlier benchmarks. getrusage's ru_maxrss will not do either: Linux carries
it across fork and exec, so a spawned child starts with its parent's peak. The child therefore reads VmHWM,
the peak of its own address space, from /proc/self/status: it loads the step's inputs (arrays from .npy/.npz
files, so loading leaves no temporaries), resets the mark (clear_refs 5), notes its resident size (the
baseline: interpreter, libraries, inputs), runs the step and reads the mark. `peak_mb` = mark - baseline,
what the step itself added at its worst moment. Linux only: elsewhere no peak is recorded.
"""

from __future__ import annotations

import gc
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from scipy import sparse

MB = 2**20
STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")
RESET_PEAK = "5"  # clear_refs command that resets VmHWM to the current resident size (Linux >= 4.0)


@dataclass(frozen=True)
class MemoryPeak:
    baseline_mb: float  # resident size with the inputs loaded, just before the step
    peak_mb: float  # what the step added to it at its worst moment
    gpu_peak_mb: float | None  # torch's peak CUDA allocation (faiss's GPU memory not included)

    def as_extra_info(self) -> dict[str, float]:
        info = {"peak_mb": round(self.peak_mb, 1), "rss_baseline_mb": round(self.baseline_mb, 1)}
        if self.gpu_peak_mb is not None:
            info["gpu_peak_mb"] = round(self.gpu_peak_mb, 1)
        return info


class InputFiles:
    """Step inputs written once per session to a folder, for children to load."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder

    def path(self, key: str, value: np.ndarray | sparse.spmatrix) -> Path:
        """The file holding `value` under `key` (written on first use; a key names one value for the session)."""
        if sparse.issparse(value):
            path = self._folder / f"{key}.npz"
            if not path.exists():
                sparse.save_npz(path, sparse.csr_matrix(value), compressed=False)
        else:
            path = self._folder / f"{key}.npy"
            if not path.exists():
                np.save(path, np.ascontiguousarray(value))
        return path


def memory_measurable() -> bool:
    """Whether this platform exposes a per-address-space peak (Linux /proc)."""
    return STATUS.exists() and CLEAR_REFS.exists()


def _status_mb(field: str) -> float:
    for line in STATUS.read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024 / MB
    raise RuntimeError(f"{STATUS} has no {field}")


def _load(argument: Any) -> Any:
    if isinstance(argument, Path) and argument.suffix == ".npz":
        return sparse.load_npz(argument).tocsr()
    if isinstance(argument, Path) and argument.suffix == ".npy":
        return np.load(argument)
    return argument


def _run_once(
    step: Callable[..., Any], arguments: tuple[Any, ...], setup: Callable[..., tuple[Any, ...]] | None
) -> MemoryPeak:
    """In the child: load (and set up), reset the mark, note the baseline, run the step, read the mark."""
    loaded = [_load(argument) for argument in arguments]
    if setup is not None:
        loaded = setup(*loaded)
    gc.collect()
    CLEAR_REFS.write_text(RESET_PEAK)
    baseline = _status_mb("VmRSS")
    step(*loaded)
    gpu_peak = torch.cuda.max_memory_allocated() / MB if torch.cuda.is_initialized() else None
    return MemoryPeak(baseline, _status_mb("VmHWM") - baseline, gpu_peak)


def step_peak(
    step: Callable[..., Any], *arguments: Any, setup: Callable[..., tuple[Any, ...]] | None = None
) -> MemoryPeak:
    """Run `step(*arguments)` once in a fresh process and return its memory peak.

    `step` (and `setup`) must be module-level functions: they are pickled by name. Path arguments ending in
    .npy/.npz are loaded there, every other argument is passed as is (keep those small: they count in the
    baseline). With `setup`, the step runs on `setup(*arguments)` instead, and what setup builds (a model,
    say) counts in the baseline, not in the step's peak.
    """
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(_run_once, step, arguments, setup).result()
