"""Shared primitives of the cancellation-free evaluations: ``log1pmx``, Stirling's
remainder, Loader's deviance ``bd0``, ``log(x / y)``.

Part of :mod:`expfam._precise`; accuracy against mpmath in ``tests/precision``.
"""

from __future__ import annotations

import numpy as np

from .._lazy import special
from .._special import (
    HALF_LOG_2PI,
    log1p_minus_x,
)


# ----------------------------------------------------------------------------------
# Shared primitives
# ----------------------------------------------------------------------------------
def log1pmx(t):
    """``log(1 + t) - t`` for ``t > -1``, accurate for small ``|t|``."""
    return log1p_minus_x(np.asarray(t, dtype=np.float64))


#: coefficients B_2k / (2k (2k - 1)) of the Stirling series (DLMF 5.11.1)
_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680, 1 / 1188, -691 / 360360, 1 / 156,
             -3617 / 122400)
_SERIES_FROM = 10.0


def stirling_remainder(x):
    """``lgamma(x) - [(x - 1/2) log x - x + log(2 pi) / 2]`` for ``x > 0`` (equal to Loader's
    ``stirlerr(x) = log x! - log(sqrt(2 pi x) (x/e)^x)``).

    The Stirling series (DLMF 5.11.1, 8 terms) for ``x >= 10``, where its truncation
    error is below 1e-17 relative; below, the direct difference, whose rounding is
    below 3e-15 in absolute terms (the remainder is about ``1 / (12 x)`` there and
    grows like ``-log x`` as ``x -> 0``).
    """
    x = np.asarray(x, dtype=np.float64)
    large = x >= _SERIES_FROM
    xl = np.where(large, x, _SERIES_FROM)
    r = 1.0 / (xl * xl)
    acc = np.zeros_like(xl)
    for c in reversed(_STIRLING):
        acc = acc * r + c
    series = acc / xl
    xs = np.where(large, 1.0, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        direct = special.gammaln(xs) - ((xs - 0.5) * np.log(xs) - xs + HALF_LOG_2PI)
    return np.where(large, series, direct)


def bd0(x, m, log_m=None, diff=None):
    """Loader's deviance term ``x log(x / m) + m - x >= 0`` for ``x >= 0``, ``m > 0``,
    without cancellation when ``x`` is close to ``m``:
    ``m [(1 + t) log1p(t) - t] = m [(1 + t)(log1p(t) - t) + t^2]`` with ``t = (x - m)/m``.

    ``log_m`` (optional) is ``log m`` when ``m`` itself may be subnormal or rounded
    (e.g. ``n p`` for a tiny ``p``).  Where ``x / m`` overflows, underflows or ``m`` is
    subnormal, ``log(x / m)`` is taken as ``log x - log m`` (no cancellation there: the
    two logarithms differ by more than 700).  ``diff`` (optional) is ``x - m`` computed
    more accurately than ``x - fl(m)`` (e.g. from an exact product).
    """
    x = np.asarray(x, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    with np.errstate(all="ignore"):
        lm = np.log(m) if log_m is None else np.asarray(log_m, dtype=np.float64)
        t = ((x - m) if diff is None else np.asarray(diff, dtype=np.float64)) / m
        near = m * ((1.0 + t) * log1pmx(np.where(t > -1.0, t, 0.0)) + t * t)
        ratio = x / m
        normal = (ratio > 1e-300) & (ratio < 1e300) & (m > 1e-300)
        log_ratio = np.where(normal, np.log(np.where(normal, ratio, 1.0)), np.log(x) - lm)
        far = np.where(x > 0, x * log_ratio, 0.0) + m - x
    return np.where(np.abs(t) < 0.5, near, far)

def _normal(x):
    """Finite, nonzero and not subnormal."""
    return np.isfinite(x) & (np.abs(x) >= np.finfo(float).tiny)


def log_ratio(x, y):
    """``log(x / y)`` for ``x, y > 0``: the log of the quotient (one rounding, no
    cancellation near 1) where it is a normal float, else ``log x - log y``."""
    with np.errstate(all="ignore"):
        r = x / y
        return np.where(_normal(r), np.log(np.where(_normal(r), r, 1.0)), np.log(x) - np.log(y))


# error-free transformations (Knuth TAOCP 4.2.2, Dekker 1971): a pair (hi, lo) is hi + lo
def two_sum(a, b):
    """``(s, e)`` with ``s = fl(a + b)`` and ``s + e = a + b`` exactly (Knuth)."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _veltkamp(a):
    """``(hi, lo)`` with ``hi + lo = a`` exactly and 26-bit ``hi`` (for ``|a| < 1``)."""
    c = 134217729.0 * a  # 2^27 + 1
    hi = c - (c - a)
    return hi, a - hi


def two_prod(a, b):
    """``(p, e)``: ``p = fl(a b)`` and ``p + e = a b`` exactly (Dekker's product) over the
    whole float64 range.

    The factors are split on their ``frexp`` mantissas, so that the split does not
    overflow for ``|a|, |b|`` near the top of the float64 range (Dekker's plain split needs
    ``|a|, |b| < 1e290``); ``e`` is exact unless it falls below the normal range (then it
    is rounded, at ``2^-1074`` absolute).
    """
    ma, ea = np.frexp(np.asarray(a, dtype=np.float64))
    mb, eb = np.frexp(np.asarray(b, dtype=np.float64))
    p = ma * mb
    ah, al = _veltkamp(ma)
    bh, bl = _veltkamp(mb)
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    k = ea + eb
    return np.ldexp(p, k), np.ldexp(e, k)
