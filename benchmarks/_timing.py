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


def timed_alternating(fns: dict, repeat: int, warmup: bool = True) -> dict:
    """Median wall times of the functions in ``fns`` (name -> function), called in turn
    ``repeat`` times each (a, b, a, b, ...), after one untimed warm-up call of each: a
    baseline and the code measured against it see the same machine load.  Returns
    name -> (median, min, max)."""
    if warmup:
        for fn in fns.values():
            fn()
    times: dict = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: (statistics.median(t), min(t), max(t)) for name, t in times.items()}
