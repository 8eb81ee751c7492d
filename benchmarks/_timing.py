"""Shared timing helper of the benchmark scripts."""

from __future__ import annotations

import statistics
import time


def timed(fn, repeat: int, warmup: bool = True) -> float:
    """Median wall time of ``repeat`` calls of ``fn``, after one untimed warm-up call
    (page cache, numba compilation) unless ``warmup`` is False."""
    if warmup:
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
