"""Laplace distribution with fixed location ``loc`` (scale ``b``).

``u(x) = |x - loc|``, ``eta = -1 / b``, ``log h = -log 2`` on the real line,
``A(eta) = -log(-eta)``.  The MLE (for known ``loc``) is ``b = mean(|x - loc|)``.
``E[log h] = -log 2`` exactly.
"""

from __future__ import annotations

import numpy as np

from .._lazy import stats
from ..domains import POSITIVE, REAL
from ._base import broadcast_params, require
from ._scale import ExponentialScaleFamily, check_real_fixed

_LOG2 = 0.6931471805599453


class Laplace(ExponentialScaleFamily):
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
    param_domains = {"scale": POSITIVE}
    support = REAL
    support_from_statistics = True
    boundary_hint = "every observation equals loc"
    log_h_constant = True

    def __init__(self, loc=0.0, scale=1.0):
        fixed = self.check_fixed({"loc": loc})
        self._init_natural(self.natural_from_params(fixed, scale=scale), fixed)

    # the entropy 1 + log(2 b) = 1 + log 2 - log(-eta) (b = -1 / eta), compiled
    # (expfam._divergence_jit) for large batches
    entropy_kernel = "log_affine_entropy"

    @classmethod
    def entropy_params(cls, fixed):
        return np.array([1.6931471805599454, -1.0, 0.0])

    @staticmethod
    def element(v, p, c):
        return (abs(v - p[0]),), -_LOG2

    @classmethod
    def element_params(cls, fixed):
        return np.asarray(fixed["loc"], dtype=np.float64)[None]

    @classmethod
    def check_fixed(cls, fixed):
        return check_real_fixed(super().check_fixed(fixed), "loc")

    @classmethod
    def natural_from_params(cls, fixed, scale=1.0):
        p = broadcast_params(scale=scale, loc=fixed["loc"])
        require(p["scale"] > 0, p["scale"], "scale", f"in {cls.param_domains['scale']}")
        return (-1.0 / p["scale"])[..., None]

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"scale": -1.0 / eta[..., 0]}

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
