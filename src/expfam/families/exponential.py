"""Exponential distribution (rate ``lam``).

``u(x) = x``, ``eta = -lam``, ``h = 1`` on ``x >= 0``, ``A(eta) = -log(-eta)``.
The MLE is ``lam = 1 / mean(x)``.

Several one-parameter families share this log partition with a positive statistic
(Rayleigh ``u = x^2``, Weibull ``u = x^k``, Laplace ``u = |x - loc|``, Pareto
``u = log x`` up to a shift): their shared mathematics is :class:`ExponentialScaleFamily`,
and :func:`kl_neg_log` is their common KL divergence.
"""

from __future__ import annotations

import numpy as np
from .._lazy import stats

from ..errors import ParameterError
from ._base import ExponentialFamily, broadcast_params, closed_form, require


def log1p_minus_x(d):
    """``log(1 + d) - d``, accurate for small ``|d|`` (Taylor series for ``|d| < 0.05``)."""
    d = np.asarray(d, dtype=np.float64)
    small = np.abs(d) < 0.05
    ds = np.where(small, d, 0.0)
    # sum_{n >= 2} (-1)^(n+1) d^n / n by Horner's rule, truncated after n = 14
    acc = np.zeros(d.shape)
    for n in range(14, 1, -1):
        acc = acc * ds + (-1.0) ** (n + 1) / n
    with np.errstate(all="ignore"):
        direct = np.log1p(d) - d
    return np.where(small, acc * ds * ds, direct)


def kl_neg_log(eta_p, eta_q):
    """KL divergence for ``A(eta) = -log(-eta)`` (plus any term linear in ``eta``).

    With ``r = eta_q / eta_p`` the Bregman divergence is ``r - 1 - log r``; near ``r = 1``
    it is evaluated as ``d - log1p(d)``, ``d = r - 1``, to keep full relative accuracy
    as ``q -> p``.
    """
    e_p, e_q = eta_p[..., 0], eta_q[..., 0]
    d = (e_q - e_p) / e_p
    with np.errstate(all="ignore"):
        r = e_q / e_p
        direct = (r - 1.0) - np.log(r)
    return np.where(np.abs(d) < 0.05, -log1p_minus_x(d), direct)


def check_real_fixed(fixed: dict, name: str, positive: bool = False) -> dict:
    """Validate the fixed parameter ``fixed[name]`` (finite, and > 0 if ``positive``);
    a float or an array."""
    try:
        v = np.asarray(fixed[name], dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"parameter {name!r} must be a number; got {fixed[name]!r}") from exc
    if positive:
        require(np.isfinite(v) & (v > 0), v, name, "finite and > 0")
    else:
        require(np.isfinite(v), v, name, "finite")
    fixed = dict(fixed)
    fixed[name] = float(v) if v.ndim == 0 else v
    return fixed


class ExponentialScaleFamily(ExponentialFamily):
    """Base of the one-parameter families whose statistic ``u(x)`` is exponential with
    rate ``-eta``: ``A(eta) = -log(-eta)`` on ``eta < 0``.

    ``grad A = -1 / eta`` (the mean of ``u``), ``hess A = 1 / eta^2`` (its variance), and
    the MLE ``eta = -1 / mean(u)`` is closed form; it exists when ``mean(u)`` is positive
    and finite.  Subclasses define ``u``, ``log h``, the parameters, the support, the
    moments of ``x``, sampling and the SciPy mapping (and override ``A`` when it has an
    extra constant or linear term, which the KL divergence ignores).
    """

    @classmethod
    def natural_dim(cls, fixed):
        return 1

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
    def natural_in_domain(cls, eta, fixed):
        return eta[..., 0] < 0

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        return (mu[..., 0] > 0) & np.isfinite(mu[..., 0])

    @classmethod
    def kl_natural(cls, eta_p, eta_q, fixed):
        return kl_neg_log(eta_p, eta_q)


class Exponential(ExponentialScaleFamily):
    """Exponential distribution with density ``lam exp(-lam x)`` on ``x >= 0``.

    Parameters
    ----------
    rate : array_like
        Rate ``lam > 0`` (the inverse of SciPy's ``scale``).
    """

    name = "exponential"
    param_names = ("rate",)
    support = "[0, inf)"
    boundary_hint = "all observations are zero"

    def __init__(self, rate=1.0):
        self._init_natural(self.natural_from_params({}, rate=rate), {})

    @classmethod
    def natural_from_params(cls, fixed, rate=1.0):
        p = broadcast_params(rate=rate)
        require(p["rate"] > 0, p["rate"], "rate", "> 0")
        return -p["rate"][..., None]

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"rate": -eta[..., 0]}

    @classmethod
    def sufficient_statistics(cls, x, fixed):
        return np.asarray(x, dtype=np.float64)[..., None]

    @classmethod
    def log_base_measure(cls, x, fixed):
        return np.zeros(np.shape(x))

    @classmethod
    def in_support(cls, x, fixed):
        return x >= 0

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
