"""A session-wide cache of values computed once under a key: feature sets, distances, centres, costs."""

from __future__ import annotations

from typing import Any, Callable, Hashable


class SessionCache:
    """Benchmarks put what they produce here, so the next benchmark of the same case need not redo it."""

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The value under `key`, computed by `compute` on first use."""
        if key not in self._values:
            self._values[key] = compute()
        return self._values[key]

    def put(self, key: Hashable, value: Any) -> None:
        self._values[key] = value
