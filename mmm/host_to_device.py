"""Host data onto the run's device without making the host wait for the device.

A plain `.to("cuda")` of pageable host memory waits for the copy, and with it for every kernel queued before it:
one small index tensor per step is enough to keep the GPU's queue empty. On CUDA the data goes through pinned
memory with a non-blocking copy, ordered on the current stream like any kernel; on the CPU it stays where it is
(a numpy array is wrapped, not copied).
"""

from __future__ import annotations

import numpy as np
import torch


def to_device(data: np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
    """`data` (a host array or tensor, or a tensor already on `device`) as a tensor on `device`."""
    tensor = torch.from_numpy(np.ascontiguousarray(data)) if isinstance(data, np.ndarray) else data
    if device.type == "cuda" and tensor.device.type == "cpu":
        # The caching host allocator keeps the pinned block alive until the copy that reads it has run.
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)
