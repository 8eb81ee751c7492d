"""Gamma distribution (shape ``a``, rate ``b``).

``u(x) = (x, log x)``, ``eta = (-b, a - 1)``, ``h = 1``,
``A(eta) = lgamma(a) - a log b``.  The MLE solves ``log a - digamma(a) = s`` with
``s = log mean(x) - mean(log x) > 0`` (:mod:`expfam.families._shape`).
"""

from __future__ import annotations

import numpy as np

from .. import _precise
from .._lazy import special, stats
from .._special import log
from ..domains import POSITIVE
from ..solvers import SolveResult
from ._base import ExponentialFamily
from ._shape import solve_gamma_shape


class Gamma(ExponentialFamily):
    """Gamma distribution with density ``b^a x^(a-1) e^(-b x) / Gamma(a)`` on ``x > 0``.

    Parameters
    ----------
    shape : array_like
        Shape ``a > 0``.
    rate : array_like
        Rate ``b > 0`` (the inverse of SciPy's ``scale``).
    """

    name = "gamma"
    param_names = ("shape", "rate")
    param_domains = {"shape": POSITIVE, "rate": POSITIVE}
    support = POSITIVE
    support_from_statistics = True
    boundary_hint = "all observations are equal, so log(mean x) = mean(log x)"
    log_h_constant = True

    def __init__(self, shape=1.0, rate=1.0):
        self._init_natural(self.natural_from_params({}, shape=shape, rate=rate), {})

    @staticmethod
    def element(v, p, c):
        return (v, log(v)), 0.0

    @classmethod
    def natural_dim(cls, fixed):
        return 2

    @classmethod
    def natural_from_params(cls, fixed, shape=1.0, rate=1.0):
        p = cls.check_params(shape=shape, rate=rate)
        return np.stack([-p["rate"], p["shape"] - 1], axis=-1)

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"shape": eta[..., 1] + 1, "rate": -eta[..., 0]}

    @classmethod
    def log_partition(cls, eta, fixed):
        a, b = eta[..., 1] + 1, -eta[..., 0]
        return special.gammaln(a) - a * np.log(b)

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        a, b = eta[..., 1] + 1, -eta[..., 0]
        return np.stack([a / b, special.digamma(a) - np.log(b)], axis=-1)

    @classmethod
    def fisher_from_natural(cls, eta, fixed):
        a, b = eta[..., 1] + 1, -eta[..., 0]
        c = 1 / b
        return np.stack(
            [np.stack([a / b**2, c], -1), np.stack([c, special.polygamma(1, a)], -1)], -2
        )

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        mean, mean_log = mu[..., 0], mu[..., 1]
        a, ok, it = solve_gamma_shape(np.log(mean) - mean_log)
        return SolveResult(np.stack([-a / mean, a - 1], axis=-1), ok, it)

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return (eta[..., 0] < 0) & (eta[..., 1] > -1)

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        with np.errstate(all="ignore"):
            return (mu[..., 0] > 0) & (np.log(mu[..., 0]) - mu[..., 1] > 0)

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return np.zeros(eta.shape[:-1])

    @classmethod
    def moments(cls, eta, fixed):
        a, b = eta[..., 1] + 1, -eta[..., 0]
        return a / b, a / b**2

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        a, b = eta[..., 1] + 1, -eta[..., 0]
        return rng.gamma(a, 1 / b, size=size + eta.shape[:-1])

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        a, b = eta[..., 1] + 1, -eta[..., 0]
        return stats.gamma(a, scale=1 / b)

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """Gamma(1, 1), the unit exponential: ``mu0 = (1, -euler_gamma)``."""
        return np.array([1.0, -np.euler_gamma])

    # expfam._divergence_jit: the textbook forms with a rounding bound; the elements
    # where the terms cancel are declined and take the forms of expfam._precise below
    kl_kernel = "gamma_kl"
    entropy_kernel = "gamma_entropy"

    @classmethod
    def entropy_natural(cls, eta, fixed):
        """``a - log b + lgamma(a) + (1 - a) psi(a)``, from Stirling's series for
        ``a >= 10`` (:func:`expfam._precise.gamma_entropy`)."""
        return _precise.gamma_entropy(eta[..., 1] + 1, -eta[..., 1], -eta[..., 0])

    @classmethod
    def log_density(cls, x, eta, fixed):
        """``a log(b x) - b x - log x - lgamma(a)`` without cancellation (Loader's form
        for ``a >= 10``; :func:`expfam._precise.gamma_log_density`), ``b x`` as an exact
        product."""
        a, a_lo = _precise.one_plus(eta[..., 1])
        b = -eta[..., 0]
        y, y_lo = _precise.product_pair(b, x)
        log_b = np.log(b)
        log_y = _precise.log_pair(y, y_lo, log_b + np.log(x))
        return _precise.gamma_log_density(x, a, a_lo, eta[..., 1], y, y_lo, log_y, log_b)

    @classmethod
    def kl_natural(cls, eta_p, eta_q, fixed):
        """Split at the member with ``p``'s mean and ``q``'s shape: two terms >= 0
        (:func:`expfam._precise.gamma_kl`)."""
        ap, ap_lo = _precise.one_plus(eta_p[..., 1])
        aq, aq_lo = _precise.one_plus(eta_q[..., 1])
        return _precise.gamma_kl(ap, ap_lo, -eta_p[..., 0], aq, aq_lo, -eta_q[..., 0],
                                 eta_q[..., 1] - eta_p[..., 1])
