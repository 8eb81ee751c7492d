"""Shared pieces of the mpmath accuracy checks: the row type, the floor, the grids."""

from __future__ import annotations

import os
from dataclasses import dataclass

import mpmath as mp
import numpy as np

mp.mp.dps = 60

#: the floor of item 5: relative 1e-12; KL also passes at 1e-15 absolute, and every
#: quantity passes at 1e-15 absolute where the true value is within rounding of 0
#: (a differential entropy or log density crossing zero has no relative accuracy)
REL = 1e-12
ABS = 1e-15


@dataclass
class Check:
    """One compared value."""

    family: str
    quantity: str  # "entropy", "logpdf" or "kl"
    where: str  # the parameters (and x), readable
    got: float
    want: mp.mpf

    @property
    def abs_error(self) -> float:
        if np.isinf(self.got) and mp.isinf(self.want) and (self.got > 0) == (self.want > 0):
            return 0.0
        return float(abs(mp.mpf(self.got) - self.want)) if np.isfinite(self.got) else np.inf

    @property
    def rel_error(self) -> float:
        if self.want == 0:
            return 0.0 if self.got == 0 else np.inf
        return self.abs_error / float(abs(self.want))

    @property
    def ok(self) -> bool:
        return self.rel_error <= REL or self.abs_error <= ABS


#: ``EXPFAM_PRECISION_FULL=1`` (set by ``benchmarks/bench_precision.py``) checks every
#: point of the grids whose oracle is slow (sums of thousands of terms, quadrature at
#: hundreds of digits); the test suite checks every third point of those, ends included
FULL = os.environ.get("EXPFAM_PRECISION_FULL") == "1"


def thin(values: np.ndarray, every: int = 3) -> np.ndarray:
    """Every ``every``-th value and the last one (all of them when :data:`FULL`)."""
    values = np.asarray(values)
    if FULL or values.size <= 2:
        return values
    return np.unique(np.concatenate([values[::every], values[-1:]]))


def loggrid(lo: float, hi: float, per_decade: int = 2) -> np.ndarray:
    """Log-spaced floats from ``lo`` to ``hi`` (both > 0), ends included."""
    n = max(2, int(round(per_decade * np.log10(hi / lo))) + 1)
    return np.geomspace(lo, hi, n)


def mpf(x) -> mp.mpf:
    """The exact value of a float64 as an mpmath number."""
    return mp.mpf(float(x))
