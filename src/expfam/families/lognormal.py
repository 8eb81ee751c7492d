"""Log-normal distribution: ``log x ~ N(mu, sigma^2)``.

``u(x) = (log x - c, (log x - c)^2)`` about a location pivot ``c`` (see
:mod:`expfam.families._gaussian`), ``eta = (mu / sigma^2, -1 / (2 sigma^2))`` for
``c = 0``, ``log h = -log x - log(2 pi) / 2``, ``A`` the Normal's (on ``log x``).  The MLE
is closed form (mean and variance of ``log x``); ``E[log h] = -mu - log(2 pi) / 2`` exactly.
"""

from __future__ import annotations

import numpy as np

from .._lazy import stats
from .._precise import gaussian_entropy, gaussian_location
from .._special import HALF_LOG_2PI, log
from ..domains import POSITIVE, REAL
from ._gaussian import GaussianFamily, loc_var, natural_from_loc_var


class LogNormal(GaussianFamily):
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
    param_domains = {"mu": REAL, "sigma": POSITIVE}
    support = POSITIVE
    support_from_statistics = True
    boundary_hint = "zero variance of log x: all observations are equal"

    def __init__(self, mu=0.0, sigma=1.0):
        self._init_natural(self.natural_from_params({}, mu=mu, sigma=sigma), {})

    @staticmethod
    def element(v, p, c):
        lv = log(v)
        y = lv - c
        return (y, y * y), -lv - HALF_LOG_2PI

    @classmethod
    def pivot_of(cls, x, fixed):
        return np.log(np.asarray(x, dtype=np.float64))

    @classmethod
    def natural_from_params(cls, fixed, mu=0.0, sigma=1.0):
        p = cls.check_params(mu=mu, sigma=sigma)
        return natural_from_loc_var(p["mu"], p["sigma"] ** 2)

    @classmethod
    def params_from_natural(cls, eta, fixed):
        m, var = loc_var(eta)
        return {"mu": m, "sigma": np.sqrt(var)}

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return -loc_var(eta)[0] - HALF_LOG_2PI

    @classmethod
    def log_jacobian(cls, x):
        """``-log x``: the density of ``x`` is that of ``log x`` over ``x``."""
        return -np.log(x)

    entropy_kernel = "lognormal_entropy"  # expfam._divergence_jit, the same form compiled

    @classmethod
    def entropy_params(cls, fixed):
        """``(1 + log pi) / 2`` for the compiled entropy."""
        return np.array([1.0723649429247002])

    @classmethod
    def entropy_natural(cls, eta, fixed):
        """``mu + log(2 pi e sigma^2) / 2``, ``mu`` as a double-float sum."""
        m, m_lo = gaussian_location(eta[..., 0], eta[..., 1])
        return m + (m_lo + gaussian_entropy(eta[..., 1]))

    @classmethod
    def moments(cls, eta, fixed):
        """Mean ``exp(mu + sigma^2/2)``, variance ``(exp(sigma^2) - 1) exp(2 mu + sigma^2)``."""
        m, s2 = loc_var(eta)
        with np.errstate(over="ignore"):
            return np.exp(m + s2 / 2), np.expm1(s2) * np.exp(2 * m + s2)

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        m, var = loc_var(eta)
        return rng.lognormal(m, np.sqrt(var), size=size + eta.shape[:-1])

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        m, var = loc_var(eta)
        return stats.lognorm(np.sqrt(var), scale=np.exp(m))

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """The standard log-normal LogNormal(0, 1): ``mu0 = (0, 1)``."""
        return np.array([0.0, 1.0])
