"""Normal (Gaussian) distribution.

``u(x) = (x - c, (x - c)^2)`` about a location pivot ``c`` (see
:mod:`expfam.families._gaussian`), ``eta = (m / s^2, -1 / (2 s^2))`` for ``c = 0``,
``log h = -log(2 pi) / 2``, ``A(eta) = -eta_1^2 / (4 eta_2) - log(-2 eta_2) / 2``.
"""

from __future__ import annotations

import numpy as np

from .._lazy import stats
from .._special import HALF_LOG_2PI
from ..domains import REAL
from ._gaussian import GaussianFamily, loc_var, natural_from_loc_var


class Normal(GaussianFamily):
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
    support = REAL
    support_from_statistics = True
    boundary_hint = "zero variance: all observations are equal"
    log_h_constant = True

    def __init__(self, loc=0.0, scale=1.0):
        self._init_natural(self.natural_from_params({}, loc=loc, scale=scale), {})

    @staticmethod
    def element(v, p, c):
        y = v - c
        return (y, y * y), -HALF_LOG_2PI

    @classmethod
    def pivot_of(cls, x, fixed):
        return np.asarray(x, dtype=np.float64)

    @classmethod
    def natural_from_params(cls, fixed, loc=0.0, scale=1.0):
        p = cls.check_params(loc=loc, scale=scale)
        return natural_from_loc_var(p["loc"], p["scale"] ** 2)

    @classmethod
    def params_from_natural(cls, eta, fixed):
        m, var = loc_var(eta)
        return {"loc": m, "scale": np.sqrt(var)}

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return np.full(eta.shape[:-1], -HALF_LOG_2PI)

    @classmethod
    def moments(cls, eta, fixed):
        return loc_var(eta)

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        m, var = loc_var(eta)
        return rng.normal(m, np.sqrt(var), size=size + eta.shape[:-1])

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        m, var = loc_var(eta)
        return stats.norm(m, np.sqrt(var))

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """The standard normal: ``mu0 = (0, 1)``."""
        return np.array([0.0, 1.0])
