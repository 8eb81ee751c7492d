"""Inverse gamma distribution (shape ``a``, scale ``b``).

Density ``b^a / Gamma(a) x^(-a-1) e^(-b/x)`` on ``x > 0``: ``1/x`` is Gamma(a, rate b).
``u(x) = (1/x, log x)``, ``eta = (-b, -a - 1)``, ``h = 1``,
``A(eta) = lgamma(a) - a log b``.  The MLE is Gamma's on ``y = 1/x``: it solves
``log a - digamma(a) = s`` with ``s = log mean(1/x) + mean(log x) > 0`` (Jensen), then
``b = a / mean(1/x)``.  ``E[log h] = 0`` exactly.
"""

from __future__ import annotations

import numpy as np

from .. import _precise
from .._lazy import special, stats
from .._special import log, log_minus_digamma
from ..domains import POSITIVE
from ..solvers import SolveResult
from ._base import ExponentialFamily
from ._shape import solve_gamma_shape

#: relative size below which ``s`` counts as zero (all observations equal, up to rounding)
_S_RTOL = 64 * np.finfo(float).eps


class InverseGamma(ExponentialFamily):
    """Inverse gamma distribution with density ``b^a x^(-a-1) e^(-b/x) / Gamma(a)``.

    The support is ``x > 0``; ``1/x`` follows a Gamma distribution with shape ``a`` and
    rate ``b``.  SciPy's equivalent is ``scipy.stats.invgamma(a, scale=b)``.

    Parameters
    ----------
    shape : array_like
        Shape ``a > 0``.
    scale : array_like
        Scale ``b > 0``.
    """

    name = "inverse_gamma"
    param_names = ("shape", "scale")
    param_domains = {"shape": POSITIVE, "scale": POSITIVE}
    support = POSITIVE
    support_from_statistics = True
    boundary_hint = "all observations are equal, so log(mean 1/x) = -mean(log x)"
    log_h_constant = True

    def __init__(self, shape=1.0, scale=1.0):
        self._init_natural(self.natural_from_params({}, shape=shape, scale=scale), {})

    @staticmethod
    def element(v, p, c):
        return (1.0 / v, log(v)), 0.0

    @classmethod
    def natural_dim(cls, fixed):
        return 2

    @classmethod
    def natural_from_params(cls, fixed, shape=1.0, scale=1.0):
        p = cls.check_params(shape=shape, scale=scale)
        return np.stack([-p["scale"], -p["shape"] - 1], axis=-1)

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"shape": -eta[..., 1] - 1, "scale": -eta[..., 0]}

    @classmethod
    def log_partition(cls, eta, fixed):
        a, b = -eta[..., 1] - 1, -eta[..., 0]
        return special.gammaln(a) - a * np.log(b)

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        # E[1/x] = a / b, E[log x] = log b - digamma(a)
        a, b = -eta[..., 1] - 1, -eta[..., 0]
        return np.stack([a / b, np.log(b) - special.digamma(a)], axis=-1)

    @classmethod
    def fisher_from_natural(cls, eta, fixed):
        a, b = -eta[..., 1] - 1, -eta[..., 0]
        c = -1 / b  # Cov[1/x, log x] = -Cov[y, log y] for y = 1/x
        return np.stack(
            [np.stack([a / b**2, c], -1), np.stack([c, special.polygamma(1, a)], -1)], -2
        )

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        mean_inv, mean_log = mu[..., 0], mu[..., 1]
        s = np.log(mean_inv) + mean_log  # Gamma's log(mean y) - mean(log y), y = 1/x
        a, ok, it = solve_gamma_shape(s)
        # accept a root whose equation residual is at rounding level
        ok = ok | (np.abs(log_minus_digamma(a) - s) <= 1e-14 * s)
        return SolveResult(np.stack([-a / mean_inv, -a - 1], axis=-1), ok, it)

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return (eta[..., 0] < 0) & (eta[..., 1] < -1)

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        # s > 0 by Jensen; all-equal data give s = 0 up to rounding of log and 1/x
        with np.errstate(all="ignore"):
            s = np.log(mu[..., 0]) + mu[..., 1]
            return (mu[..., 0] > 0) & (s > _S_RTOL * (1 + np.abs(mu[..., 1])))

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return np.zeros(eta.shape[:-1])

    @classmethod
    def moments(cls, eta, fixed):
        """Mean ``b / (a - 1)`` (inf for ``a <= 1``), variance
        ``b^2 / ((a - 1)^2 (a - 2))`` (inf for ``a <= 2``)."""
        a, b = -eta[..., 1] - 1, -eta[..., 0]
        with np.errstate(all="ignore"):
            mean = np.where(a > 1, b / (a - 1), np.inf)
            var = np.where(a > 2, b**2 / ((a - 1) ** 2 * (a - 2)), np.inf)
        return mean, var

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        a, b = -eta[..., 1] - 1, -eta[..., 0]
        y = rng.gamma(a, 1 / b, size=size + eta.shape[:-1])
        # a Gamma draw that underflows to 0 (tiny shape) is replaced by the smallest
        # positive float, so that every sample lies in the support
        return 1 / np.maximum(y, np.finfo(float).tiny)

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        a, b = -eta[..., 1] - 1, -eta[..., 0]
        return stats.invgamma(a, scale=b)

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """InverseGamma(1, 1) (``1/x`` unit exponential): ``mu0 = (1, euler_gamma)``."""
        return np.array([1.0, np.euler_gamma])

    @classmethod
    def entropy_natural(cls, eta, fixed):
        """``a + log b + lgamma(a) - (1 + a) psi(a)``, from Stirling's series for
        ``a >= 10`` (:func:`expfam._precise.gamma_entropy`)."""
        return _precise.gamma_entropy(-eta[..., 1] - 1, eta[..., 1], -eta[..., 0], inverse=True)

    @classmethod
    def _shape_pair(cls, eta):
        return _precise.two_sum(-eta[..., 1], -1.0)

    @classmethod
    def log_density(cls, x, eta, fixed):
        """``a log(b / x) - b / x - log x - lgamma(a)``: the gamma density of ``y = b / x``
        times the Jacobian ``1/x^2``, without cancellation
        (:func:`expfam._precise.gamma_log_density`), ``b / x`` with its rounding error."""
        a, a_lo = cls._shape_pair(eta)
        b = -eta[..., 0]
        y = b / x
        p, e = _precise.product_pair(y, x)
        y_lo = np.where(e == 0.0, 0.0, ((b - p) - e) / x)
        log_x = np.log(x)
        log_b = np.log(b)
        log_y = _precise.log_pair(y, y_lo, log_b - log_x)
        return _precise.gamma_log_density(x, a, a_lo, -eta[..., 1] - 2.0, y, y_lo, log_y,
                                          log_b - 2.0 * log_x)

    @classmethod
    def kl_natural(cls, eta_p, eta_q, fixed):
        """KL of the gamma laws of ``1/x`` (KL is invariant under the bijection
        ``x -> 1/x``): :func:`expfam._precise.gamma_kl`."""
        ap, ap_lo = cls._shape_pair(eta_p)
        aq, aq_lo = cls._shape_pair(eta_q)
        return _precise.gamma_kl(ap, ap_lo, -eta_p[..., 0], aq, aq_lo, -eta_q[..., 0],
                                 eta_p[..., 1] - eta_q[..., 1])
