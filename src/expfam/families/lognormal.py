"""Log-normal distribution: ``log x ~ N(mu, sigma^2)``.

``u(x) = (log x, (log x)^2)``, ``eta = (mu / sigma^2, -1 / (2 sigma^2))``,
``log h = -log x - log(2 pi) / 2``, ``A(eta) = -eta_1^2 / (4 eta_2) - log(-2 eta_2) / 2``
(the Normal's, on ``log x``).  The MLE is closed form (mean and variance of ``log x``);
``E[log h] = -mu - log(2 pi) / 2`` exactly.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ._base import ExponentialFamily, broadcast_params, closed_form, require

_LOG_2PI = np.log(2 * np.pi)
#: relative size below which the variance of log x counts as zero (all values equal)
_VAR_RTOL = 64 * np.finfo(float).eps


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
        var = -0.5 / eta[..., 1]
        return {"mu": eta[..., 0] * var, "sigma": np.sqrt(var)}

    @classmethod
    def sufficient_statistics(cls, x, fixed):
        y = np.log(x)
        return np.stack([y, y * y], axis=-1)

    @classmethod
    def log_base_measure(cls, x, fixed):
        return -np.log(x) - 0.5 * _LOG_2PI

    @classmethod
    def log_partition(cls, eta, fixed):
        e1, e2 = eta[..., 0], eta[..., 1]
        return -e1 * e1 / (4 * e2) - 0.5 * np.log(-2 * e2)

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        var = -0.5 / eta[..., 1]
        m = eta[..., 0] * var
        return np.stack([m, m * m + var], axis=-1)

    @classmethod
    def fisher_from_natural(cls, eta, fixed):
        # Cov of (y, y^2) for y = log x ~ N(m, var)
        var = -0.5 / eta[..., 1]
        m = eta[..., 0] * var
        c12 = 2 * m * var
        return np.stack(
            [np.stack([var, c12], -1), np.stack([c12, 4 * m * m * var + 2 * var * var], -1)], -2
        )

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        m = mu[..., 0]
        var = mu[..., 1] - m * m
        return closed_form(np.stack([m / var, -0.5 / var], axis=-1))

    @classmethod
    def in_support(cls, x, fixed):
        return x > 0

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return eta[..., 1] < 0

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        var = mu[..., 1] - mu[..., 0] ** 2
        return var > _VAR_RTOL * np.abs(mu[..., 1])

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
        p, q = cls.params_from_natural(eta_p, fixed), cls.params_from_natural(eta_q, fixed)
        r = p["sigma"] / q["sigma"]
        d = (p["mu"] - q["mu"]) / q["sigma"]
        return 0.5 * (r * r + d * d - 1) - np.log(r)
