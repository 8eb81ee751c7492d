"""Elementary and special functions, written once for NumPy and for the compiled kernels.

Every function here is *array-agnostic*: called from Python it takes NumPy arrays (or
floats) and uses NumPy's ufuncs; the compiled kernels (:mod:`expfam._jit`) compile the very
same Python function with numba for one float at a time.  Two rules make that possible:

- branches on values go through :func:`select` (``np.where`` in NumPy; a conditional
  expression when compiled), loops have a fixed trip count;
- the elementary functions :func:`log`, :func:`log1p`, :func:`exp`, :func:`cos`,
  :func:`sin` are NumPy's ufuncs here, and when compiled they are replaced (numba
  ``overload`` in :mod:`expfam._jit`) by branch-free versions that LLVM vectorises.

A family's per-observation map (``element``, see :mod:`expfam.families._base`) and its
Newton steps are written with these functions, so that the NumPy path and the compiled
path run the same mathematics.  Nothing here imports numba or SciPy.

The special-function approximations (digamma and friends) are for Newton iterations
(their derivative sets the rate, not the root) and for expressions SciPy does not offer
in a cancellation-free form; the final residual of a solver is always checked with
SciPy's accurate functions by the caller.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "select", "log", "log1p", "exp", "cos", "sin", "in_interval", "lookup", "lgamma1p_stirling",
    "log_minus_digamma", "log_minus_digamma_prime", "digamma", "trigamma",
    "digamma_difference_pair", "inverse_digamma_start", "inverse_digamma_step",
    "log1p_minus_x", "min_", "max_", "expm1", "logaddexp",
]

EULER_GAMMA = 0.5772156649015329
HALF_LOG_2PI = 0.9189385332046728  # log(2 pi) / 2
LOG_2PI = 1.8378770664093453


# ----------------------------------------------------------------------------------
# Elementary functions (NumPy here; vectorisable versions when compiled)
# ----------------------------------------------------------------------------------
def select(cond, a, b):
    """``a`` where ``cond`` else ``b`` (both are evaluated)."""
    return np.where(cond, a, b)


def log(x):
    """Natural logarithm."""
    return np.log(x)


def log1p(x):
    """``log(1 + x)``."""
    return np.log1p(x)


def exp(x):
    """Exponential."""
    return np.exp(x)


def cos(x):
    """Cosine (the compiled version is for ``|x| <= 4``: angles in ``[-pi, pi)``)."""
    return np.cos(x)


def sin(x):
    """Sine (the compiled version is for ``|x| <= 4``)."""
    return np.sin(x)


def in_interval(v, bounds):
    """Whether ``v`` lies in the interval ``bounds = (lo, hi, integer)``
    (:meth:`expfam.domains.Interval.bounds`: the open interval ``(lo, hi)``, integers
    only if ``integer``); NaN and inf lie outside (two comparisons exclude them)."""
    return (v > bounds[0]) & (v < bounds[1]) & ((bounds[2] == 0.0) | (v == np.floor(v)))


def lookup(table, v):
    """``table[v]`` for integer-valued ``v``, clamped to the table (a value outside it
    reads the nearest end; callers select another expression there)."""
    idx = np.clip(v, 0, table.shape[0] - 1)
    return table[np.asarray(idx, dtype=np.intp)]


_STIRLING = (1 / 12, -1 / 360, 1 / 1260, -1 / 1680)


def lgamma1p_stirling(v):
    """``lgamma(v + 1)`` for ``v >= 1023`` (Stirling series, relative error < 1e-17)."""
    w = v + 1.0
    iw = 1.0 / w
    iw2 = iw * iw
    corr = iw * (_STIRLING[0] + iw2 * (_STIRLING[1] + iw2 * (_STIRLING[2] + iw2 * _STIRLING[3])))
    return (w - 0.5) * log(w) - w + HALF_LOG_2PI + corr


def log1p_minus_x(d):
    """``log(1 + d) - d``, accurate for small ``|d|`` (Taylor series for ``|d| < 0.05``)."""
    small = abs(d) < 0.05
    ds = select(small, d, 0.0)
    # sum_{n >= 2} (-1)^(n+1) d^n / n by Horner's rule, truncated after n = 14
    acc = ds * 0.0
    for n in range(14, 1, -1):
        acc = acc * ds + (1.0 if n % 2 == 1 else -1.0) / n
    direct = log1p(select(small, 0.0, d)) - select(small, 0.0, d)
    return select(small, acc * ds * ds, direct)


# ----------------------------------------------------------------------------------
# Digamma and friends (DLMF 5.5.2 recurrence + asymptotic series 5.11.2, 5.15.8)
# ----------------------------------------------------------------------------------
#: arguments below this are shifted up by ``_SHIFT`` before the asymptotic series
_ASYMPTOTIC = 20.0
_SHIFT = 20


def _digamma_tail(y):
    """``log(y) - psi(y) - 1/(2y) = sum_k B_2k / (2k y^2k)`` for ``y >= 20`` (DLMF 5.11.2),
    8 terms (relative error below 1e-19 at ``y = 20``)."""
    r = 1.0 / (y * y)
    inner = 1 / 240 - r * (1 / 132 - r * (691 / 32760 - r * (1 / 12 - r * 3617 / 8160)))
    return r * (1 / 12 - r * (1 / 120 - r * (1 / 252 - r * inner)))


def _log_minus_digamma_series(y):
    """``log(y) - psi(y)`` for ``y >= 20``."""
    return 0.5 / y + _digamma_tail(y)


def log_minus_digamma(a):
    """``log(a) - psi(a)`` for ``a > 0``, without the cancellation of the direct difference
    for large ``a`` (where it is about ``1 / (2a)``)."""
    large = a >= _ASYMPTOTIC
    small_a = select(large, 1.0, a)
    acc = small_a * 0.0
    for i in range(_SHIFT):
        acc = acc + 1.0 / (small_a + i)
    y = small_a + _SHIFT
    # psi(a) = psi(a + 20) - sum_i 1 / (a + i)
    shifted = log(small_a / y) + _log_minus_digamma_series(y) + acc
    return select(large, _log_minus_digamma_series(select(large, a, _ASYMPTOTIC)), shifted)


def _trigamma_series_tail(y):
    """``psi1(y) - 1/y`` for ``y >= 6`` (DLMF 5.15.8): ``1/(2y^2) + sum_k B_2k / y^(2k+1)``."""
    r = 1.0 / y
    r2 = r * r
    return 0.5 * r2 + r * r2 * (1 / 6 - r2 * (1 / 30 - r2 * (1 / 42 - r2 * (
        1 / 30 - r2 * (5 / 66 - r2 * (691 / 2730 - r2 * 7 / 6))))))


def log_minus_digamma_prime(a):
    """``d/da (log(a) - psi(a)) = 1/a - psi1(a)`` (negative), without cancellation for
    large ``a``: ``psi1(a) = psi1(a + 6) + sum_{i<6} (a + i)^-2`` below 6, then the series
    of ``psi1(y) - 1/y``.  Relative error below 1e-10 (a Newton derivative)."""
    low = a < 6.0
    head = a * 0.0
    for i in range(6):
        t = a + i
        head = head + select(low, 1.0 / (t * t), 0.0)
    y = select(low, a + 6.0, a)
    # 1/a - psi1(a) = (1/a - 1/y) - head - (psi1(y) - 1/y)
    return (1.0 / a - 1.0 / y) - head - _trigamma_series_tail(y)


def digamma(a):
    """``psi(a)`` for ``a > 0`` (absolute error about 1e-15)."""
    return log(a) - log_minus_digamma(a)


def trigamma(a):
    """``psi1(a)`` for ``a > 0`` (relative error below 1e-10)."""
    return 1.0 / a - log_minus_digamma_prime(a)


def digamma_difference_pair(a, rest):
    """``psi(a) - psi(a + rest)`` for ``a > 0``, ``rest > 0``, to a few ulps.

    For ``a < 20`` both arguments are shifted by the recurrence to ``b = a + 20``
    (DLMF 5.5.2); then with ``L(b) = log b - psi(b)``:
    ``psi(a) - psi(a + rest) = -log1p(rest / b) - rest / (2 b b0) - [L~(b) - L~(b0)]
    - sum_{i<20} rest / ((a + i)(a + rest + i))``, ``b0 = b + rest``,
    ``L~ = L - 1/(2b)``.  Every term is negative: no cancellation, even when ``a`` and
    ``a + rest`` are both large or nearly equal.
    """
    small = a < _ASYMPTOTIC
    corr = a * 0.0
    for i in range(_SHIFT):
        corr = corr + select(small, rest / ((a + i) * (a + i + rest)), 0.0)
    b = select(small, a + _SHIFT, a)
    b0 = b + rest
    tail = _digamma_tail(b) - _digamma_tail(b0)
    return -log1p(rest / b) - 0.5 * rest / (b * b0) - tail - corr


def inverse_digamma_start(y):
    """Start of Newton's iteration for ``psi(x) = y`` (Minka 2000, appendix C):
    ``exp(y) + 1/2`` for ``y >= -2.22``, else ``-1 / (y + euler_gamma)``."""
    high = y >= -2.22
    return select(high, exp(select(high, min_(y, 700.0), 0.0)) + 0.5,
                  -1.0 / (select(high, -3.0, y) + EULER_GAMMA))


def inverse_digamma_step(x, y):
    """One Newton step for ``psi(x) = y`` (halving instead of leaving ``x > 0``)."""
    xn = x - (digamma(x) - y) / trigamma(x)
    return select(xn > 0, xn, 0.5 * x)


def min_(a, b):
    """Elementwise minimum (``np.minimum``; ``min`` when compiled)."""
    return np.minimum(a, b)


def max_(a, b):
    """Elementwise maximum (``np.maximum``; ``max`` when compiled)."""
    return np.maximum(a, b)


def expm1(x):
    """``exp(x) - 1``."""
    return np.expm1(x)


def logaddexp(a, b):
    """``log(exp(a) + exp(b))`` without overflow."""
    top = max_(a, b)
    return top + log1p(exp(-abs(a - b)))
