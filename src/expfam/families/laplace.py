"""Laplace distribution with fixed location ``loc`` (scale ``b``).

``u(x) = |x - loc|``, ``eta = -1 / b``, ``log h = -log 2`` on the real line,
``A(eta) = -log(-eta)``.  The MLE (for known ``loc``) is ``b = mean(|x - loc|)``.
``E[log h] = -log 2`` exactly.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ..errors import ParameterError
from ._base import ExponentialFamily, broadcast_params, closed_form, require
from .exponential import kl_neg_log

_LOG2 = np.log(2.0)


class Laplace(ExponentialFamily):
    """Laplace distribution with density ``exp(-|x - loc| / b) / (2 b)``, ``loc`` held fixed.

    Parameters
    ----------
    loc : float or array_like
        Location (the median), fixed (not fitted): ``expfam.fit(expfam.Laplace, x, loc=0.0)``.
    scale : array_like
        Scale ``b > 0``.
    """

    name = "laplace"
    fixed_params = ("loc",)
    param_names = ("scale",)
    support = "(-inf, inf)"
    boundary_hint = "every observation equals loc"

    def __init__(self, loc=0.0, scale=1.0):
        fixed = self.check_fixed({"loc": loc})
        self._init_natural(self.natural_from_params(fixed, scale=scale), fixed)

    @classmethod
    def check_fixed(cls, fixed):
        fixed = super().check_fixed(fixed)
        try:
            loc = np.asarray(fixed["loc"], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ParameterError(f"parameter 'loc' must be a number; got {fixed['loc']!r}") from exc
        require(np.isfinite(loc), loc, "loc", "finite")
        fixed["loc"] = float(loc) if loc.ndim == 0 else loc
        return fixed

    @classmethod
    def natural_dim(cls, fixed):
        return 1

    @classmethod
    def natural_from_params(cls, fixed, scale=1.0):
        p = broadcast_params(scale=scale, loc=fixed["loc"])
        require(p["scale"] > 0, p["scale"], "scale", "> 0")
        return (-1.0 / p["scale"])[..., None]

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"scale": -1.0 / eta[..., 0]}

    @classmethod
    def sufficient_statistics(cls, x, fixed):
        return np.abs(np.asarray(x, dtype=np.float64) - fixed["loc"])[..., None]

    @classmethod
    def log_base_measure(cls, x, fixed):
        return np.full(np.shape(x), -_LOG2)

    @classmethod
    def log_partition(cls, eta, fixed):
        return -np.log(-eta[..., 0])

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        return -1.0 / eta

    @classmethod
    def fisher_from_natural(cls, eta, fixed):
        return ((1.0 / eta) ** 2)[..., None]

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        return closed_form(-1.0 / mu)

    @classmethod
    def in_support(cls, x, fixed):
        return np.ones(np.shape(x), dtype=bool)

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return eta[..., 0] < 0

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        return (mu[..., 0] > 0) & np.isfinite(mu[..., 0])

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return np.full(eta.shape[:-1], -_LOG2)

    @classmethod
    def moments(cls, eta, fixed):
        b = -1.0 / eta[..., 0]
        return np.broadcast_to(fixed["loc"], b.shape) * 1.0, 2.0 * b * b

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        return rng.laplace(fixed["loc"], -1.0 / eta[..., 0], size=size + eta.shape[:-1])

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        return stats.laplace(fixed["loc"], -1.0 / eta[..., 0])

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """Laplace with the same ``loc`` and ``b = 1``: ``mu0 = E|x - loc| = 1``."""
        return np.array([1.0])

    @classmethod
    def kl_natural(cls, eta_p, eta_q, fixed):
        return kl_neg_log(eta_p, eta_q)
