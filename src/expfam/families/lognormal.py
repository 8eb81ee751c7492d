"""Log-normal distribution: ``log x ~ N(mu, sigma^2)``.

``u(x) = (log x, (log x)^2)``, ``eta = (mu / sigma^2, -1 / (2 sigma^2))``,
``log h = -log x - log(2 pi) / 2``, ``A(eta) = -eta_1^2 / (4 eta_2) - log(-2 eta_2) / 2``
(the Normal's, on ``log x``).  The MLE is closed form (mean and variance of ``log x``);
``E[log h] = -mu - log(2 pi) / 2`` exactly.
"""

from __future__ import annotations

import numpy as np
from .._lazy import stats

from ._base import ExponentialFamily, broadcast_params, require
from .normal import _LOG_2PI, Normal


class LogNormal(ExponentialFamily):
    """Log-normal distribution on ``x > 0``: ``log x`` is normal with mean ``mu`` and
    standard deviation ``sigma``.

    SciPy's equivalent is ``scipy.stats.lognorm(s=sigma, scale=exp(mu))``.

    Parameters
    ----------
    mu : array_like
        Mean of ``log x``.
    sigma : array_like
        Standard deviation of ``log x``, > 0.
    """

    name = "lognormal"
    param_names = ("mu", "sigma")
    support = "(0, inf)"
    boundary_hint = "zero variance of log x: all observations are equal"

    def __init__(self, mu=0.0, sigma=1.0):
        self._init_natural(self.natural_from_params({}, mu=mu, sigma=sigma), {})

    @classmethod
    def natural_dim(cls, fixed):
        return 2

    @classmethod
    def natural_from_params(cls, fixed, mu=0.0, sigma=1.0):
        p = broadcast_params(mu=mu, sigma=sigma)
        require(p["sigma"] > 0, p["sigma"], "sigma", "> 0")
        var = p["sigma"] ** 2
        return np.stack([p["mu"] / var, -0.5 / var], axis=-1)

    @classmethod
    def params_from_natural(cls, eta, fixed):
        p = Normal.params_from_natural(eta, fixed)
        return {"mu": p["loc"], "sigma": p["scale"]}

    @classmethod
    def sufficient_statistics(cls, x, fixed):
        y = np.log(x)
        return np.stack([y, y * y], axis=-1)

    @classmethod
    def log_base_measure(cls, x, fixed):
        return -np.log(x) - 0.5 * _LOG_2PI

    # u(x) is the Normal's on y = log x, so A, its derivatives, the mean -> natural map and
    # the domains are the Normal's (whose classmethods act on eta alone)
    @classmethod
    def log_partition(cls, eta, fixed):
        return Normal.log_partition(eta, fixed)

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        return Normal.mean_from_natural(eta, fixed)

    @classmethod
    def fisher_from_natural(cls, eta, fixed):
        # Cov of (y, y^2) for y = log x ~ N(m, var)
        return Normal.fisher_from_natural(eta, fixed)

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        return Normal.natural_from_mean(mu, fixed)

    @classmethod
    def in_support(cls, x, fixed):
        return x > 0

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return Normal.natural_in_domain(eta, fixed)

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        # the variance of log x is not zero (to rounding)
        return Normal.mean_in_interior(mu, fixed)

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        m = eta[..., 0] * (-0.5 / eta[..., 1])
        return -m - 0.5 * _LOG_2PI

    @classmethod
    def moments(cls, eta, fixed):
        """Mean ``exp(mu + sigma^2/2)``, variance ``(exp(sigma^2) - 1) exp(2 mu + sigma^2)``."""
        p = cls.params_from_natural(eta, fixed)
        s2 = p["sigma"] ** 2
        with np.errstate(over="ignore"):
            return np.exp(p["mu"] + s2 / 2), np.expm1(s2) * np.exp(2 * p["mu"] + s2)

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        p = cls.params_from_natural(eta, fixed)
        return rng.lognormal(p["mu"], p["sigma"], size=size + eta.shape[:-1])

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        p = cls.params_from_natural(eta, fixed)
        return stats.lognorm(p["sigma"], scale=np.exp(p["mu"]))

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """The standard log-normal LogNormal(0, 1): ``mu0 = (0, 1)``."""
        return np.array([0.0, 1.0])

    @classmethod
    def kl_natural(cls, eta_p, eta_q, fixed):
        # the Normal KL of log x (KL is invariant under x -> log x), free of cancellation
        return Normal.kl_natural(eta_p, eta_q, fixed)
