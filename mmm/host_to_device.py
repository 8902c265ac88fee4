"""Host data onto the run's device without making the host wait for the device.

A plain `.to("cuda")` of pageable host memory waits for the copy, and with it for every kernel queued before it:
one small index tensor per step is enough to keep the GPU's queue empty. On CUDA the data goes through pinned
memory with a non-blocking copy, ordered on the current stream like any kernel; on the CPU it stays where it is
(a numpy array is wrapped, not copied). BatchLoader does the same for whole training batches, one ahead.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, TypeVar

import numpy as np
import torch


def to_device(data: np.ndarray | torch.Tensor, device: torch.device) -> torch.Tensor:
    """`data` (a host array or tensor, or a tensor already on `device`) as a tensor on `device`."""
    tensor = torch.from_numpy(np.ascontiguousarray(data)) if isinstance(data, np.ndarray) else data
    if device.type == "cuda" and tensor.device.type == "cpu":
        # The caching host allocator keeps the pinned block alive until the copy that reads it has run.
        return tensor.pin_memory().to(device, non_blocking=True)
    return tensor.to(device)


T = TypeVar("T")
P = TypeVar("P")
Allocate = Callable[[tuple[int, ...], torch.dtype], torch.Tensor]
Gather = Callable[[Allocate], list[torch.Tensor]]


class _Loaded:
    """Tensors on their way to the device: ready on the CPU, or copied on a side stream until `event`."""

    def __init__(self, tensors: list[torch.Tensor], event: torch.cuda.Event | None = None) -> None:
        self.tensors = tensors
        self.event = event


class BatchLoader:
    """Host work for a batch (gathering rows) and its copy to the device, started ahead of its use.

    On CUDA a worker thread runs the gather into pinned memory and copies the result on a side stream, so both
    overlap the steps already queued on the GPU; `take` makes the current stream wait for that copy only. Elsewhere
    the gather runs when asked, in the caller's thread (and on the CPU nothing is copied).
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self._cuda = device.type == "cuda"
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mmm-batch") if self._cuda else None
        self._stream = torch.cuda.Stream(device) if self._cuda else None

    def start(self, gather: Gather) -> Future[_Loaded]:
        """Begin `gather`: it receives an allocator for its host tensors (pinned on CUDA) and returns them."""
        if self._pool is None:
            done: Future[_Loaded] = Future()
            done.set_result(self._load(gather))
            return done
        return self._pool.submit(self._load, gather)

    def take(self, pending: Future[_Loaded]) -> list[torch.Tensor]:
        """The gathered tensors on the device, usable on the current stream."""
        loaded = pending.result()
        if loaded.event is not None:
            current = torch.cuda.current_stream(self.device)
            current.wait_event(loaded.event)
            for tensor in loaded.tensors:
                # Made on the side stream: the allocator must not reuse its memory before this stream is done.
                tensor.record_stream(current)
        return loaded.tensors

    def _load(self, gather: Gather) -> _Loaded:
        if not self._cuda:
            host = gather(lambda shape, dtype: torch.empty(shape, dtype=dtype))
            return _Loaded([tensor.to(self.device) for tensor in host])
        assert self._stream is not None
        host = gather(lambda shape, dtype: torch.empty(shape, dtype=dtype, pin_memory=True))
        with torch.cuda.device(self.device), torch.cuda.stream(self._stream):
            tensors = [tensor.to(self.device, non_blocking=True) for tensor in host]
            event = torch.cuda.Event()
            event.record(self._stream)
        return _Loaded(tensors, event)

    def ahead(self, gathers: Iterable[Gather]) -> Iterator[list[torch.Tensor]]:
        """Each gather's tensors on the device, in order, the next one started before the current is handed out."""
        for pending in one_ahead(gathers, self.start):
            yield self.take(pending)


def one_ahead(items: Iterable[T], start: Callable[[T], P]) -> Iterator[P]:
    """start(item) for every item, in order, each yielded only once the following item has been started."""
    iterator = iter(items)
    try:
        pending = start(next(iterator))
    except StopIteration:
        return
    for item in iterator:
        following = start(item)
        yield pending
        pending = following
    yield pending
