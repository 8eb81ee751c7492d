"""Shared mathematics of the Gaussian families of one variable (Normal, LogNormal).

With ``y = x`` (Normal) or ``y = log x`` (LogNormal): ``u = (y, y^2)``,
``eta = (m / v, -1 / (2 v))``, ``A(eta) = -eta_1^2 / (4 eta_2) - log(-2 eta_2) / 2``.

Location pivot.  Far from the origin (``|m| >> sd``) the raw statistics ``(y, y^2)``
cancel: ``var = E[y^2] - E[y]^2`` loses every digit once ``m^2 / var`` passes ``1 / eps``.
So the statistics are accumulated about a pivot ``c`` (the first observation), ``u =
(y - c, (y - c)^2)``, and re-centred exactly when accumulators with different pivots merge
(:meth:`GaussianFamily.shift_sums`, Chan, Golub and LeVeque 1979); the fit solves for the
law of ``y - c`` and shifts it back.  Densities, entropy and KL are computed about the
model's own mean: ``y - m`` against the mean held as a double-float sum
(:func:`expfam._precise.gaussian_location`), so that they keep float64's relative
accuracy however far the mean is from the origin (:mod:`expfam._precise`).
"""

from __future__ import annotations

import numpy as np

from .._precise import gaussian_entropy, gaussian_kl, gaussian_log_density
from ..domains import POSITIVE, REAL
from ..solvers import closed_form
from ._base import ExponentialFamily

#: relative size below which a variance counts as zero (all observations equal)
_VAR_RTOL = 64 * np.finfo(float).eps
_TINY = np.finfo(float).tiny


def loc_var(eta):
    """``(m, v)``: mean and variance of ``y`` from ``eta = (m / v, -1 / (2 v))``."""
    var = -0.5 / eta[..., 1]
    return eta[..., 0] * var, var


def natural_from_loc_var(m, var):
    """``eta = (m / v, -1 / (2 v))``."""
    return np.stack([m / var, -0.5 / var], axis=-1)


class GaussianFamily(ExponentialFamily):
    """Base of the families whose statistic ``y`` (``x`` or ``log x``) is normal:
    ``u = (y - c, (y - c)^2)`` about a location pivot ``c``.  Subclasses give ``y`` (in
    ``element`` and :meth:`pivot_of`), ``log h``, the familiar parameters and the moments
    of ``x``."""

    pivot = True
    param_domains = {"loc": REAL, "scale": POSITIVE}

    @classmethod
    def natural_dim(cls, fixed):
        return 2

    @classmethod
    def log_partition(cls, eta, fixed):
        e1, e2 = eta[..., 0], eta[..., 1]
        return -e1 * e1 / (4 * e2) - 0.5 * np.log(-2 * e2)

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        m, var = loc_var(eta)
        return np.stack([m, m * m + var], axis=-1)

    @classmethod
    def fisher_from_natural(cls, eta, fixed):
        m, var = loc_var(eta)
        c12 = 2 * m * var
        return np.stack(
            [np.stack([var, c12], -1), np.stack([c12, 4 * m * m * var + 2 * var * var], -1)], -2
        )

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        m = mu[..., 0]
        return closed_form(natural_from_loc_var(m, mu[..., 1] - m * m))

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return eta[..., 1] < 0

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        with np.errstate(all="ignore"):
            var = mu[..., 1] - mu[..., 0] ** 2
            # a variance below the smallest normal float64 has lost its digits (and its
            # natural parameter -1 / (2 var) overflows)
            return (var > _VAR_RTOL * np.abs(mu[..., 1])) & (var >= _TINY)

    @classmethod
    def range_problem(cls, mu, fixed):
        # deviations from the pivot that are not zero, whose squares underflowed (below
        # the smallest normal float64); or any overflow
        underflow = (mu[..., 0] != 0) & (np.abs(mu[..., 1]) < _TINY)
        return underflow | ~np.all(np.isfinite(mu), axis=-1)

    # -- location pivot ------------------------------------------------------------
    @classmethod
    def location(cls, eta, fixed):
        return loc_var(eta)[0]

    @classmethod
    def shift_natural(cls, eta, c, fixed):
        # through (m, v): m - c is exact when c is m itself (no cancellation of m / v)
        m, var = loc_var(eta)
        return natural_from_loc_var(m - c, var)

    @classmethod
    def unshift_natural(cls, eta_c, c, fixed):
        m, var = loc_var(eta_c)
        return natural_from_loc_var(m + c, var)

    @classmethod
    def shift_sums(cls, sum_u, weight_sum, d, fixed):
        # sums of (y - c, (y - c)^2) -> sums of (y - c - d, (y - c - d)^2)
        s1, s2 = sum_u[..., 0], sum_u[..., 1]
        return np.stack([s1 - weight_sum * d, s2 - 2 * d * s1 + weight_sum * d * d], axis=-1)

    # -- densities, entropy and KL without cancellation (expfam._precise) -------------
    @classmethod
    def log_jacobian(cls, x):
        """``log h(x) + log(2 pi) / 2``: 0 for ``y = x``, ``-log x`` for ``y = log x``."""
        return 0.0

    @classmethod
    def log_density(cls, x, eta, fixed):
        # log N(y; m, v) about the double-float mean, plus the Jacobian of y(x)
        y = cls.pivot_of(x, fixed)
        return gaussian_log_density(y, eta[..., 0], eta[..., 1]) + cls.log_jacobian(x)

    entropy_kernel = "log_affine_entropy"  # expfam._divergence_jit, the same form compiled

    @classmethod
    def entropy_params(cls, fixed):
        """``(1 + log pi) / 2 - log(-eta_2) / 2`` for the compiled entropy."""
        return np.array([1.0723649429247002, -0.5, 1.0])

    @classmethod
    def entropy_natural(cls, eta, fixed):
        # entropy of y: log(2 pi e v) / 2, from eta_2 alone
        return gaussian_entropy(eta[..., 1])

    kl_kernel = "gaussian_kl"  # expfam._divergence_jit, the same form compiled

    @classmethod
    def kl_natural(cls, eta_p, eta_q, fixed):
        # [(r - 1) - log r] / 2 + (m_p - m_q)^2 / (2 v_q), r = v_p / v_q, by log1pmx and
        # the double-float means (the same for x and for log x)
        return gaussian_kl(eta_p, eta_q)
