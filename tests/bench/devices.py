"""The devices benchmarks run on, and the thread counts they record.

The bench's one import of faiss: it reports faiss's OpenMP thread count and whether the installed build can
search on a GPU (mmm.clustering.knn uses a GPU index exactly when both torch and faiss see one).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator
from unittest import mock

import faiss
import pytest
import torch

from mmm.clustering import knn
from tests.availability import cuda_only

CPU, CUDA = "cpu", "cuda"
# CUDA variants run when the tests are pointed at CUDA (MMM_TEST_DEVICE=cuda make bench) and skip, named, elsewhere.
CUDA_ONLY = cuda_only
NO_FAISS_GPU = "faiss has no GPU support here: install faiss-gpu-cu12 (make setup-gpu) for GPU kNN"


def cuda_available() -> bool:
    return torch.cuda.is_available()


def faiss_gpu_available() -> bool:
    """Whether exact_knn would search on a GPU index (a CPU-only wheel has no GPU classes at all)."""
    return cuda_available() and hasattr(faiss, "StandardGpuResources") and faiss.get_num_gpus() > 0


def device_params() -> list[Any]:
    """pytest params for the device axis: cpu always, cuda with MMM_TEST_DEVICE=cuda (skipped and named otherwise)."""
    return [pytest.param(CPU, id=CPU), pytest.param(CUDA, id=CUDA, marks=CUDA_ONLY)]


def synchronize(device: str) -> None:
    """Wait for queued kernels, so a timed call ends when the GPU's work does, not when it was queued."""
    if device == CUDA:
        torch.cuda.synchronize()


def thread_counts() -> dict[str, int]:
    """Threads torch's intra-op pool and faiss's OpenMP pool will use."""
    return {"torch_threads": torch.get_num_threads(), "faiss_threads": faiss.omp_get_max_threads()}


def device_label(device: str) -> str:
    """The device as recorded: "cpu", or "cuda:<GPU name>"."""
    return f"{CUDA}:{torch.cuda.get_device_name()}" if device == CUDA else CPU


@contextmanager
def knn_on(device: str) -> Iterator[None]:
    """Make exact_knn search on `device`. It picks a GPU index on its own whenever faiss can use one, so on a
    GPU machine the CPU variant must hide the GPU from it to time the CPU index. On a CPU-only machine, or
    for the CUDA variant, this changes nothing."""
    if device == CPU and faiss_gpu_available():
        with mock.patch.object(knn, "_use_gpu", return_value=False):
            yield
    else:
        yield
