"""Pareto distribution with fixed scale ``x_m`` (shape ``alpha``).

``u(x) = log x``, ``eta = -alpha``, ``log h = -log x`` on ``x >= x_m``,
``A(eta) = eta log x_m - log(-eta)``.  The MLE (for known ``x_m``) is
``alpha = 1 / (mean(log x) - log x_m)``.  ``E[log h] = -E[log x] = -(log x_m + 1 / alpha)``
in closed form.
"""

from __future__ import annotations

import numpy as np

from .. import _precise
from .._lazy import stats
from .._special import log
from ..domains import POSITIVE, Interval
from ..solvers import closed_form
from ._base import broadcast_params, require
from ._scale import ExponentialScaleFamily, check_real_fixed

#: relative size below which ``mean(log x) - log x_m`` counts as zero (all x equal x_m)
_GAP_RTOL = 256 * np.finfo(float).eps


class Pareto(ExponentialScaleFamily):
    """Pareto distribution with density ``alpha x_m^alpha / x^(alpha + 1)`` on ``x >= x_m``,
    ``x_m`` held fixed.

    Parameters
    ----------
    alpha : array_like
        Shape (tail index) ``alpha > 0`` (SciPy's ``b``).
    x_m : float or array_like
        Scale ``x_m > 0``, the lower end of the support, fixed (not fitted):
        ``expfam.fit(expfam.Pareto, x, x_m=1.0)``.
    """

    name = "pareto"
    fixed_params = ("x_m",)
    param_names = ("alpha",)
    param_domains = {"alpha": POSITIVE}
    boundary_hint = "every observation equals x_m, so mean(log x) = log x_m"

    def __init__(self, alpha=1.0, x_m=1.0):
        fixed = self.check_fixed({"x_m": x_m})
        self._init_natural(self.natural_from_params(fixed, alpha=alpha), fixed)

    @staticmethod
    def element(v, p, c):
        return (log(v),), -log(v)

    @classmethod
    def support_of(cls, fixed):
        return Interval(fixed["x_m"], np.inf, closed_lo=True)

    @classmethod
    def check_fixed(cls, fixed):
        return check_real_fixed(super().check_fixed(fixed), "x_m", positive=True)

    @classmethod
    def natural_from_params(cls, fixed, alpha=1.0):
        p = broadcast_params(alpha=alpha, x_m=fixed["x_m"])
        require(p["alpha"] > 0, p["alpha"], "alpha", f"in {cls.param_domains['alpha']}")
        return -p["alpha"][..., None]

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"alpha": -eta[..., 0]}

    @classmethod
    def log_partition(cls, eta, fixed):
        # the term eta log x_m is linear in eta: it cancels in the (inherited) KL divergence
        e = eta[..., 0]
        return e * np.log(fixed["x_m"]) - np.log(-e)

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        return np.log(fixed["x_m"])[..., None] - 1.0 / eta

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        return closed_form(-1.0 / (mu - np.log(fixed["x_m"])[..., None]))

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        log_xm = np.log(fixed["x_m"])
        gap = mu[..., 0] - log_xm
        return (gap > _GAP_RTOL * np.abs(log_xm)) & (gap > 0) & np.isfinite(gap)

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return -cls.mean_from_natural(eta, fixed)[..., 0]

    @classmethod
    def moments(cls, eta, fixed):
        a, xm = -eta[..., 0], fixed["x_m"]
        with np.errstate(all="ignore"):
            mean = np.where(a > 1, a * xm / (a - 1), np.inf)
            var = np.where(a > 2, xm**2 * a / ((a - 1) ** 2 * (a - 2)), np.inf)
        return mean, var

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        # log(x / x_m) is exponential with rate alpha
        e = rng.standard_exponential(size=size + eta.shape[:-1])
        return fixed["x_m"] * np.exp(e / -eta[..., 0])

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        return stats.pareto(-eta[..., 0], scale=fixed["x_m"])

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """Pareto with ``alpha = 1`` and the same ``x_m``: ``mu0 = log x_m + 1``."""
        return np.asarray(np.log(fixed["x_m"]) + 1.0)[..., None]

    entropy_kernel = "pareto_entropy"  # expfam._divergence_jit, the same form compiled

    @classmethod
    def entropy_params(cls, fixed):
        """``[x_m]`` for the compiled entropy; ``None`` (no kernel) for an array ``x_m``."""
        return np.array([float(fixed["x_m"])]) if np.ndim(fixed["x_m"]) == 0 else None

    @classmethod
    def entropy_natural(cls, eta, fixed):
        """``log(x_m / alpha) + 1 / alpha + 1`` (the log of the quotient in one piece
        where it is a normal float)."""
        alpha = -eta[..., 0]
        return _precise.log_ratio(np.asarray(fixed["x_m"], dtype=np.float64), alpha) + 1.0 / alpha + 1.0

    @classmethod
    def log_density(cls, x, eta, fixed):
        """``log(alpha / x) - alpha log(x / x_m)``, ``log(x / x_m)`` as
        ``log1p((x - x_m) / x_m)`` for ``x < 2 x_m`` (``x - x_m`` is exact there), so
        that a large ``alpha`` does not multiply the rounding of ``log x - log x_m``."""
        alpha = -eta[..., 0]
        xm = np.asarray(fixed["x_m"], dtype=np.float64)
        near = x < 2.0 * xm
        lr = np.where(near, np.log1p((x - xm) / xm), _precise.log_ratio(x, xm))
        return _precise.log_ratio(alpha, x) - alpha * lr
