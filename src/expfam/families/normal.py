"""Normal (Gaussian) distribution.

``u(x) = (x, x^2)``, ``eta = (m / s^2, -1 / (2 s^2))``, ``log h = -log(2 pi) / 2``,
``A(eta) = -eta_1^2 / (4 eta_2) - log(-2 eta_2) / 2``.
"""

from __future__ import annotations

import numpy as np
from .._lazy import stats

from ._base import ExponentialFamily, closed_form, broadcast_params, require

_LOG_2PI = np.log(2 * np.pi)
#: relative size below which a variance counts as zero (all observations equal)
_VAR_RTOL = 64 * np.finfo(float).eps


class Normal(ExponentialFamily):
    """Normal distribution ``N(loc, scale^2)`` on the real line.

    Parameters
    ----------
    loc : array_like
        Mean.
    scale : array_like
        Standard deviation, > 0.
    """

    name = "normal"
    param_names = ("loc", "scale")
    support = "(-inf, inf)"
    boundary_hint = "zero variance: all observations are equal"

    def __init__(self, loc=0.0, scale=1.0):
        self._init_natural(self.natural_from_params({}, loc=loc, scale=scale), {})

    @classmethod
    def natural_dim(cls, fixed):
        return 2

    @classmethod
    def natural_from_params(cls, fixed, loc=0.0, scale=1.0):
        p = broadcast_params(loc=loc, scale=scale)
        require(p["scale"] > 0, p["scale"], "scale", "> 0")
        var = p["scale"] ** 2
        return np.stack([p["loc"] / var, -0.5 / var], axis=-1)

    @classmethod
    def params_from_natural(cls, eta, fixed):
        var = -0.5 / eta[..., 1]
        return {"loc": eta[..., 0] * var, "scale": np.sqrt(var)}

    @classmethod
    def sufficient_statistics(cls, x, fixed):
        return np.stack([x, x * x], axis=-1)

    @classmethod
    def log_base_measure(cls, x, fixed):
        return np.full(np.shape(x), -0.5 * _LOG_2PI)

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
        return np.ones(np.shape(x), dtype=bool)

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return eta[..., 1] < 0

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        var = mu[..., 1] - mu[..., 0] ** 2
        return var > _VAR_RTOL * np.abs(mu[..., 1])

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return np.full(eta.shape[:-1], -0.5 * _LOG_2PI)

    @classmethod
    def moments(cls, eta, fixed):
        p = cls.params_from_natural(eta, fixed)
        return p["loc"], p["scale"] ** 2

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        p = cls.params_from_natural(eta, fixed)
        return rng.normal(p["loc"], p["scale"], size=size + eta.shape[:-1])

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        p = cls.params_from_natural(eta, fixed)
        return stats.norm(p["loc"], p["scale"])

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """The standard normal: ``mu0 = (0, 1)``."""
        return np.array([0.0, 1.0])

    @classmethod
    def kl_natural(cls, eta_p, eta_q, fixed):
        # closed form, free of the cancellation of the generic Bregman formula
        p, q = cls.params_from_natural(eta_p, fixed), cls.params_from_natural(eta_q, fixed)
        r = p["scale"] / q["scale"]
        d = (p["loc"] - q["loc"]) / q["scale"]
        return 0.5 * (r * r + d * d - 1) - np.log(r)
