"""The fast Walsh-Hadamard transform, compiled (used by :mod:`.enumerate`)."""

from __future__ import annotations

from numba import njit

__all__ = ["fwht"]


@njit(cache=True)
def fwht(a):
    """In-place unnormalised fast Walsh-Hadamard transform of ``a`` (length ``2^n``)."""
    N = a.size
    half = 1
    while half < N:
        for start in range(0, N, 2 * half):
            for j in range(start, start + half):
                x = a[j]
                y = a[j + half]
                a[j] = x + y
                a[j + half] = x - y
        half *= 2
