"""Exponential distribution (rate ``lam``).

``u(x) = x``, ``eta = -lam``, ``h = 1`` on ``x >= 0``, ``A(eta) = -log(-eta)``.
The MLE is ``lam = 1 / mean(x)``.  (The mathematics shared with Rayleigh, Weibull,
Laplace and Pareto is :class:`~expfam.families._scale.ExponentialScaleFamily`.)
"""

from __future__ import annotations

import numpy as np

from .._lazy import stats
from ..domains import NONNEGATIVE, POSITIVE
from ._scale import ExponentialScaleFamily


class Exponential(ExponentialScaleFamily):
    """Exponential distribution with density ``lam exp(-lam x)`` on ``x >= 0``.

    Parameters
    ----------
    rate : array_like
        Rate ``lam > 0`` (the inverse of SciPy's ``scale``).
    """

    name = "exponential"
    param_names = ("rate",)
    param_domains = {"rate": POSITIVE}
    support = NONNEGATIVE
    boundary_hint = "all observations are zero"
    log_h_constant = True

    def __init__(self, rate=1.0):
        self._init_natural(self.natural_from_params({}, rate=rate), {})

    @staticmethod
    def element(v, p, c):
        return (v,), 0.0

    @classmethod
    def natural_from_params(cls, fixed, rate=1.0):
        p = cls.check_params(rate=rate)
        return -p["rate"][..., None]

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"rate": -eta[..., 0]}

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return np.zeros(eta.shape[:-1])

    @classmethod
    def moments(cls, eta, fixed):
        m = -1.0 / eta[..., 0]
        return m, m * m

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        return rng.exponential(-1.0 / eta[..., 0], size=size + eta.shape[:-1])

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        return stats.expon(scale=-1.0 / eta[..., 0])

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """The unit exponential (rate 1): ``mu0 = 1``."""
        return np.array([1.0])

    entropy_kernel = "log_affine_entropy"  # expfam._divergence_jit, the same form compiled

    @classmethod
    def entropy_params(cls, fixed):
        """``1 - log(-eta)`` for the compiled entropy."""
        return np.array([1.0, -1.0, 0.0])

    @classmethod
    def entropy_natural(cls, eta, fixed):
        """``1 - log lam``."""
        return 1.0 - np.log(-eta[..., 0])

    @classmethod
    def log_density(cls, x, eta, fixed):
        """``log lam - lam x``."""
        lam = -eta[..., 0]
        return np.log(lam) - lam * x
