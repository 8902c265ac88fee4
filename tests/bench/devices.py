"""The devices benchmarks run on, and the thread counts they record.

The bench's one import of faiss: it reports faiss's OpenMP thread count (the CPU kNN search's pool; on CUDA the
search is torch's, mmm.clustering.knn).
"""

from __future__ import annotations

from typing import Any

import faiss
import pytest
import torch

from tests.availability import cuda_only

CPU, CUDA = "cpu", "cuda"
# CUDA variants run when the tests are pointed at CUDA (MMM_TEST_DEVICE=cuda make bench) and skip, named, elsewhere.
CUDA_ONLY = cuda_only


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
