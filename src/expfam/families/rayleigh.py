"""Rayleigh distribution (scale ``sigma``).

``u(x) = x^2``, ``eta = -1 / (2 sigma^2)``, ``log h = log x`` on ``x > 0``,
``A(eta) = -log(-2 eta)``.  The MLE is ``sigma^2 = mean(x^2) / 2``.
``E[log h] = E[log x] = (log(2 sigma^2) - euler_gamma) / 2`` in closed form, since
``x^2`` is exponential with mean ``2 sigma^2``.
"""

from __future__ import annotations

import numpy as np

from .._lazy import stats
from .._special import log
from ..domains import POSITIVE
from ._scale import ExponentialScaleFamily

#: 1 + euler_gamma / 2 - log 2
_H_CONST = 1.0 + 0.5 * np.euler_gamma - np.log(2.0)


class Rayleigh(ExponentialScaleFamily):
    """Rayleigh distribution with density ``x / sigma^2 exp(-x^2 / (2 sigma^2))`` on ``x > 0``.

    Parameters
    ----------
    scale : array_like
        Scale ``sigma > 0`` (SciPy's ``scale``); the mode of the distribution.
    """

    name = "rayleigh"
    param_names = ("scale",)
    param_domains = {"scale": POSITIVE}
    support = POSITIVE
    support_from_statistics = True
    boundary_hint = "the mean of x^2 is zero or not finite: x^2 underflows or overflows"

    def __init__(self, scale=1.0):
        self._init_natural(self.natural_from_params({}, scale=scale), {})

    @staticmethod
    def element(v, p, c):
        return (v * v,), log(v)

    @classmethod
    def natural_from_params(cls, fixed, scale=1.0):
        p = cls.check_params(scale=scale)
        return (-0.5 / p["scale"] ** 2)[..., None]

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"scale": np.sqrt(-0.5 / eta[..., 0])}

    @classmethod
    def log_partition(cls, eta, fixed):
        # -log(-eta) - log 2: the constant shifts neither grad A nor the KL divergence
        return -np.log(-2.0 * eta[..., 0])

    @classmethod
    def range_problem(cls, mu, fixed):
        # u > 0 on the support: a mean of zero or inf can only be an underflow or an
        # overflow of u
        return ~((mu[..., 0] > 0) & np.isfinite(mu[..., 0]))

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        # E[log x] = (E[log x^2]) / 2 with x^2 ~ Exponential(mean -1/eta)
        return 0.5 * (np.log(-1.0 / eta[..., 0]) - np.euler_gamma)

    @classmethod
    def moments(cls, eta, fixed):
        s2 = -0.5 / eta[..., 0]
        return np.sqrt(0.5 * np.pi * s2), (2.0 - 0.5 * np.pi) * s2

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        return rng.rayleigh(np.sqrt(-0.5 / eta[..., 0]), size=size + eta.shape[:-1])

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        return stats.rayleigh(scale=np.sqrt(-0.5 / eta[..., 0]))

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """Rayleigh with ``sigma = 1``: ``mu0 = E[x^2] = 2``."""
        return np.array([2.0])

    @classmethod
    def entropy_natural(cls, eta, fixed):
        """``1 + euler_gamma / 2 + log(sigma / sqrt 2) = 1 + euler_gamma / 2 - log 2
        - log(-eta) / 2`` (``sigma^2 = -1 / (2 eta)``)."""
        return _H_CONST - 0.5 * np.log(-eta[..., 0])

    @classmethod
    def log_density(cls, x, eta, fixed):
        """``log x + log(-2 eta) + eta x^2``, the square taken as ``(eta x) x`` (no
        overflow of ``x^2`` where ``eta x^2`` is a float)."""
        e = eta[..., 0]
        return np.log(x) + np.log(-2.0 * e) + (e * x) * x
