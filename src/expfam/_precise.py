"""Cancellation-free pieces for entropies, log densities and divergences (NumPy/SciPy).

Closed forms of an entropy or a KL divergence are often differences of large, nearly
equal terms (``lgamma(k) + (1 - k) psi(k) + k``, ``x log lam - lam - log x!``).  The
functions here return such differences directly, from asymptotic series or
``log1p``-style rearrangements, so that the result keeps float64's *relative* accuracy.
They are evaluated in NumPy (not compiled); nothing here imports a family.

Sections: shared primitives; discrete families; gamma-type families; Gaussian-type
families.  Each function states its accuracy against mpmath (``tests/precision``).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ._special import HALF_LOG_2PI, log1p_minus_x

__all__ = ["stirling_remainder", "bd0", "log1pmx"]


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
    """``lgamma(x) - [(x - 1/2) log x - x + log(2 pi) / 2]`` for ``x > 0``.

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


def bd0(x, m):
    """Loader's deviance term ``x log(x / m) + m - x >= 0`` for ``x >= 0``, ``m > 0``,
    without cancellation when ``x`` is close to ``m``:
    ``m [(1 + t) log1p(t) - t] = m [(1 + t)(log1p(t) - t) + t^2]`` with ``t = (x - m)/m``.
    """
    x = np.asarray(x, dtype=np.float64)
    m = np.asarray(m, dtype=np.float64)
    t = (x - m) / m
    with np.errstate(divide="ignore", invalid="ignore"):
        near = m * ((1.0 + t) * log1pmx(np.where(t > -1.0, t, 0.0)) + t * t)
        far = special.xlogy(x, x / m) + m - x
    return np.where(np.abs(t) < 0.5, near, far)


# ----------------------------------------------------------------------------------
# Discrete families (Poisson, Binomial, NegativeBinomial, Geometric, Bernoulli,
# Categorical, Multinomial)
# ----------------------------------------------------------------------------------


# ----------------------------------------------------------------------------------
# Gamma-type families (Gamma, InverseGamma, ChiSquare, Exponential, Weibull, Rayleigh,
# Pareto, Beta, Dirichlet)
# ----------------------------------------------------------------------------------


# ----------------------------------------------------------------------------------
# Gaussian-type families (Normal, LogNormal, MultivariateNormal, Laplace,
# InverseGaussian, VonMises)
# ----------------------------------------------------------------------------------
