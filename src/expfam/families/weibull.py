"""Weibull distribution with fixed shape ``k`` (scale ``lam``).

``u(x) = x^k``, ``eta = -lam^(-k)``, ``log h = log k + (k - 1) log x`` on ``x > 0``,
``A(eta) = -log(-eta)``.  The MLE (for known ``k``) is ``lam = mean(x^k)^(1/k)``.
``E[log h] = log k + (k - 1) (log lam - euler_gamma / k)`` in closed form, since
``x^k`` is exponential with mean ``lam^k``.
"""

from __future__ import annotations

import numpy as np

from .._lazy import special, stats
from .._special import exp, log
from ..domains import POSITIVE
from ._base import broadcast_params, require
from ._scale import ExponentialScaleFamily, check_real_fixed


class Weibull(ExponentialScaleFamily):
    """Weibull distribution with density ``(k / lam) (x / lam)^(k-1) exp(-(x / lam)^k)``
    on ``x > 0``, shape ``k`` held fixed.

    Parameters
    ----------
    k : float or array_like
        Shape ``k > 0``, fixed (not fitted): ``expfam.fit(expfam.Weibull, x, k=1.5)``.
    scale : array_like
        Scale ``lam > 0`` (SciPy's ``scale``).
    """

    name = "weibull"
    fixed_params = ("k",)
    param_names = ("scale",)
    param_domains = {"scale": POSITIVE}
    support = POSITIVE
    support_from_statistics = True
    boundary_hint = "the mean of x^k is zero or not finite: x^k underflows or overflows"

    def __init__(self, k=1.0, scale=1.0):
        fixed = self.check_fixed({"k": k})
        self._init_natural(self.natural_from_params(fixed, scale=scale), fixed)

    @staticmethod
    def element(v, p, c):
        # p = (k, log k): u = x^k, log h = log k + (k - 1) log x
        lv = log(v)
        return (exp(p[0] * lv),), p[1] + (p[0] - 1.0) * lv

    @classmethod
    def element_params(cls, fixed):
        k = np.asarray(fixed["k"], dtype=np.float64)
        return np.stack([k, np.log(k)])

    @classmethod
    def check_fixed(cls, fixed):
        return check_real_fixed(super().check_fixed(fixed), "k", positive=True)

    @classmethod
    def natural_from_params(cls, fixed, scale=1.0):
        p = broadcast_params(scale=scale, k=fixed["k"])
        require(cls.param_domains["scale"].contains(p["scale"]), p["scale"], "scale",
                f"in {cls.param_domains['scale']}")
        with np.errstate(all="ignore"):
            eta = -np.exp(-p["k"] * np.log(p["scale"]))
        # eta = -scale^-k leaves float64 for large k unless scale is near 1
        require((eta < 0) & np.isfinite(eta), p["scale"], "scale",
                "such that scale**(-k) is a finite nonzero float64 for the given k")
        return eta[..., None]

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"scale": np.exp(-np.log(-eta[..., 0]) / fixed["k"])}

    @classmethod
    def range_problem(cls, mu, fixed):
        # u > 0 on the support: a mean of zero or inf can only be an underflow or an
        # overflow of u
        return ~((mu[..., 0] > 0) & np.isfinite(mu[..., 0]))

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        k = fixed["k"]
        # E[log x] = (log lam^k - euler_gamma) / k, with x^k ~ Exponential(mean lam^k)
        e_log_x = (-np.log(-eta[..., 0]) - np.euler_gamma) / k
        return np.log(k) + (k - 1) * e_log_x

    @classmethod
    def moments(cls, eta, fixed):
        k = fixed["k"]
        lam = cls.params_from_natural(eta, fixed)["scale"]
        g1, g2 = special.gammaln(1 + 1 / k), special.gammaln(1 + 2 / k)
        # Var = lam^2 (Gamma(1 + 2/k) - Gamma(1 + 1/k)^2), without the cancellation for large k
        return lam * np.exp(g1), lam**2 * np.exp(2 * g1) * np.expm1(g2 - 2 * g1)

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        batch = eta.shape[:-1]
        lam = cls.params_from_natural(eta, fixed)["scale"]
        return lam * rng.weibull(np.broadcast_to(fixed["k"], batch), size=size + batch)

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        return stats.weibull_min(fixed["k"], scale=cls.params_from_natural(eta, fixed)["scale"])

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """Weibull with the same ``k`` and ``lam = 1``: ``mu0 = E[x^k] = 1``."""
        return np.array([1.0])

    @classmethod
    def entropy_natural(cls, eta, fixed):
        """``euler_gamma (1 - 1/k) + log(lam / k) + 1`` with ``log lam = -log(-eta) / k``
        (written without the cancellation of ``A - eta mu - E log h`` for large ``k``)."""
        k = np.asarray(fixed["k"], dtype=np.float64)
        return np.euler_gamma * (1.0 - 1.0 / k) - (np.log(-eta[..., 0]) / k + np.log(k)) + 1.0

    @classmethod
    def log_density(cls, x, eta, fixed):
        """``log k + (k - 1) log x + log(-eta) - (-eta) x^k``, ``x^k`` by ``np.power``
        (correctly rounded; from the logarithms where it leaves float64)."""
        k = np.asarray(fixed["k"], dtype=np.float64)
        lam_k = -eta[..., 0]  # lam^-k
        log_x = np.log(x)
        xk = np.power(x, k)
        z = lam_k * xk
        ok = np.isfinite(z) & (xk > 0) & np.isfinite(xk)
        z = np.where(ok, z, np.exp(np.log(lam_k) + k * log_x))
        return np.log(k) + (k - 1.0) * log_x + np.log(lam_k) - z
