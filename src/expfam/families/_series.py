"""The log partition on the integers ``{lo, lo + 1, ...}`` as a series summed in log space.

``A(eta) = log sum_{x >= lo} h(x) exp(eta . u(x))``.  With ``z(x) = log h(x) + eta . u(x)``
the terms are summed by a log-sum-exp over ``x = lo .. lo + L - 1``, ``L`` doubling from
64 until the tail bound is met.

Truncation bound: if the ratios ``r(x) = exp(z(x + 1) - z(x))`` of successive terms are
non-increasing beyond the last term ``N`` (``z`` concave there; checked on the last quarter
of the terms), every later term is at most ``w(N) r^j`` with ``r = r(N - 1) < 1``, so the
tail is at most ``w(N) r / (1 - r)`` and the error of ``A`` at most
``tail / sum <= rtol``.  Where the last increment is not negative or ``z`` is not concave
at ``MAX_TERMS`` terms, or where from ``DIVERGENT_AT`` terms on ``z`` is strictly convex on
the last quarter (the ratios grow: the bound can never apply; for statistics such as
``x^j`` and ``log x!`` that curvature persists, and the series diverges) or the terms
still grow without ``z`` being concave, the series is taken to diverge (``eta`` outside
the natural domain) and no sum is returned.  A limitation: a series whose terms decrease
but are log-convex at large ``x`` (a negative binomial base measure
``Gamma(x + r) / x!`` with ``r < 1``) converges, but no bound of this kind applies to it
and it is rejected the same way.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["SeriesSum", "sum_series", "MAX_TERMS"]

#: the most terms summed before the series is declared divergent
MAX_TERMS = 1 << 21
#: from this many terms on, terms still growing log-convexly mean divergence
DIVERGENT_AT = 1 << 10


@dataclass(frozen=True)
class SeriesSum:
    """A truncated series: the first ``L`` states and the bound on the neglected tail.

    Attributes
    ----------
    x, U, log_h : ndarray
        The states ``lo .. lo + L - 1``, their statistics ``(L, k)`` and log base measure.
    log_w : ndarray
        Zeros (counting measure), so that the sum is a weighted node table.
    log_partition : float
    error : float
        Bound on ``log(1 + tail / sum)``, the truncation error of ``A``.
    converged : bool
        Always True (a sum that misses its bound is not returned).
    """

    x: np.ndarray
    U: np.ndarray
    log_h: np.ndarray
    log_w: np.ndarray
    log_partition: float
    error: float
    converged: bool = True


def _log_tail_ratio(z: np.ndarray):
    """``log tail bound - log partial sum``: ``inf`` when the bound does not apply yet
    (last increment >= 0, or ``z`` not concave on the last quarter), ``nan`` when, from
    ``DIVERGENT_AT`` terms on, ``z`` is strictly convex there, or growing and not concave
    (the series is taken to diverge)."""
    d = np.diff(z[-(z.size // 4):])
    dd = np.diff(d)
    slack = 16 * np.finfo(float).eps * (float(np.max(np.abs(z[-(z.size // 4):]))) + 1.0)
    if z.size >= DIVERGENT_AT and (np.all(dd > slack) or (d[-1] >= 0 and np.all(dd >= -slack))):
        return math.nan  # log-convex terms: the ratios grow, no tail bound ever applies
    if not d[-1] < 0 or np.any(dd > slack):
        return math.inf
    top = float(np.max(z))
    log_sum = top + math.log(float(np.sum(np.exp(z - top))))
    log_r = float(d[-1])
    # log(w(N) r / (1 - r)) = z(N) + log r - log(1 - r)
    log_tail = float(z[-1]) + log_r - math.log(-math.expm1(log_r))
    return log_tail - log_sum


def sum_series(table, eta, *, rtol: float = 1e-16) -> SeriesSum | None:
    """Sum the series at ``eta`` until the truncation bound is at most ``rtol``.

    Parameters
    ----------
    table : callable
        ``table(L) -> (x, U, log_h)``: the first ``L`` states, their statistics ``(L, k)``
        and log base measure ``(L,)`` (cached by the caller).
    eta : ndarray, shape (k,)
    rtol : float
        Bound on ``tail / sum`` (and so on the error of ``A``).

    Returns
    -------
    SeriesSum or None
        ``None`` when the series diverges at ``eta`` (or converges too slowly for the
        bound within ``MAX_TERMS`` terms).
    """
    eta = np.asarray(eta, dtype=np.float64)
    L = 64
    while L <= MAX_TERMS:
        x, U, log_h = table(L)
        with np.errstate(all="ignore"):
            z = log_h + U @ eta
        if not np.all(z < np.inf):
            return None
        rel = _log_tail_ratio(z)
        if math.isnan(rel):
            return None
        if rel <= math.log(rtol):
            top = float(np.max(z))
            log_sum = top + math.log(float(np.sum(np.exp(z - top))))
            return SeriesSum(x, U, log_h, np.zeros(L), log_sum, math.exp(rel))
        L *= 2
    return None
