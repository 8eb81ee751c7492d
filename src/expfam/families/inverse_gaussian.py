"""Inverse Gaussian (Wald) distribution (mean ``m``, shape ``lam``).

Density ``sqrt(lam / (2 pi x^3)) exp(-lam (x - m)^2 / (2 m^2 x))`` on ``x > 0``.
``u(x) = (x, 1/x)``, ``eta = (-lam / (2 m^2), -lam / 2)``,
``log h = -log(2 pi) / 2 - 3/2 log x``,
``A(eta) = -2 sqrt(eta_1 eta_2) - log(-2 eta_2) / 2 = -lam / m - log(lam) / 2``.
The MLE is closed form: ``m = mean(x)``, ``1/lam = mean(1/x) - 1/mean(x)``.

``E[log x]`` (for the entropy) is exact: the law is a generalised inverse Gaussian of
order ``-1/2``, so ``E[log x] = log m + d/dnu log K_nu(phi)`` at ``nu = -1/2`` with
``phi = lam / m``; with ``dK_nu/dnu = -sqrt(pi / (2 z)) E1(2z) e^z`` at ``nu = -1/2``
(DLMF 10.38.7) and ``K_(1/2)(z) = sqrt(pi / (2 z)) e^-z`` this is
``E[log x] = log m - e^(2 phi) E1(2 phi)``.  The scaled exponential integral
``e^z E1(z)`` is computed directly for ``z <= 50`` and by its asymptotic series
(DLMF 6.12.1, 30 terms, error < 1e-18 relative) above.

Entropy, log density and KL are evaluated without cancellation
(:mod:`expfam._precise`): the entropy as
``(1 + log pi) / 2 + log(-eta_2) / 4 - 3/4 log(-eta_1) - 3/2 e^z E1(z)``, ``z = 2 lam / m``
(with ``log z`` taken out of ``e^z E1(z)`` for ``z < 1``), where the generic
``A - eta . mu`` loses ``lam / m`` against 1; the exponent of the density as
``-(sqrt(-eta_1 x) - sqrt(-eta_2 / x))^2`` from exact products; the KL with ``log1pmx``
and the mean gap from a 2x2 determinant.
"""

from __future__ import annotations

import numpy as np

from .._lazy import stats
from .._precise import (
    exp1_scaled,
    inverse_gaussian_entropy,
    inverse_gaussian_kl,
    inverse_gaussian_log_density,
)
from .._special import HALF_LOG_2PI, log
from ..domains import POSITIVE
from ..solvers import closed_form
from ._base import ExponentialFamily

_LOG_2PI = np.log(2 * np.pi)
#: ``mean(x) mean(1/x) - 1`` below this counts as zero (all observations equal)
_GAP_RTOL = 64 * np.finfo(float).eps


def scaled_exp1(z):
    """``e^z E1(z)`` for ``z > 0``, without overflow for large ``z``
    (:func:`expfam._precise.exp1_scaled`)."""
    return exp1_scaled(z)


class InverseGaussian(ExponentialFamily):
    """Inverse Gaussian (Wald) distribution with mean ``m`` and shape ``lam`` on ``x > 0``.

    SciPy's equivalent is ``scipy.stats.invgauss(m / lam, scale=lam)``.

    Parameters
    ----------
    mean : array_like
        Mean ``m > 0``.
    shape : array_like
        Shape ``lam > 0`` (the variance is ``m^3 / lam``).
    """

    name = "inverse_gaussian"
    param_names = ("mean", "shape")
    param_domains = {"mean": POSITIVE, "shape": POSITIVE}
    support = POSITIVE
    support_from_statistics = True
    boundary_hint = "all observations are equal, so mean(x) mean(1/x) = 1"

    def __init__(self, mean=1.0, shape=1.0):
        self._init_natural(self.natural_from_params({}, mean=mean, shape=shape), {})

    @staticmethod
    def element(v, p, c):
        return (v, 1.0 / v), -HALF_LOG_2PI - 1.5 * log(v)

    @classmethod
    def natural_dim(cls, fixed):
        return 2

    @classmethod
    def natural_from_params(cls, fixed, mean=1.0, shape=1.0):
        p = cls.check_params(mean=mean, shape=shape)
        lam = p["shape"]
        return np.stack([-lam / (2 * p["mean"] ** 2), -lam / 2], axis=-1)

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"mean": np.sqrt(eta[..., 1] / eta[..., 0]), "shape": -2 * eta[..., 1]}

    @classmethod
    def log_partition(cls, eta, fixed):
        e1, e2 = eta[..., 0], eta[..., 1]
        return -2 * np.sqrt(e1 * e2) - 0.5 * np.log(-2 * e2)

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        # E[x] = m, E[1/x] = 1/m + 1/lam
        e1, e2 = eta[..., 0], eta[..., 1]
        return np.stack([np.sqrt(e2 / e1), np.sqrt(e1 / e2) - 0.5 / e2], axis=-1)

    @classmethod
    def fisher_from_natural(cls, eta, fixed):
        # Var x = m^3/lam, Cov(x, 1/x) = -m/lam, Var(1/x) = 1/(m lam) + 2/lam^2
        p = cls.params_from_natural(eta, fixed)
        m, lam = p["mean"], p["shape"]
        c = -m / lam
        return np.stack(
            [np.stack([m**3 / lam, c], -1), np.stack([c, 1 / (m * lam) + 2 / lam**2], -1)], -2
        )

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        m = mu[..., 0]
        lam = 1 / (mu[..., 1] - 1 / m)
        return closed_form(np.stack([-lam / (2 * m * m), -lam / 2], axis=-1))

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        # eta_1 = 0 (the Levy distribution, infinite mean) is excluded: m must be finite
        return (eta[..., 0] < 0) & (eta[..., 1] < 0)

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        # mean(x) mean(1/x) >= 1 by Jensen, with equality iff all observations are equal
        return (mu[..., 0] > 0) & (mu[..., 0] * mu[..., 1] - 1 > _GAP_RTOL)

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        p = cls.params_from_natural(eta, fixed)
        m, lam = p["mean"], p["shape"]
        e_log_x = np.log(m) - scaled_exp1(2 * lam / m)
        return -0.5 * _LOG_2PI - 1.5 * e_log_x

    @classmethod
    def moments(cls, eta, fixed):
        p = cls.params_from_natural(eta, fixed)
        return p["mean"], p["mean"] ** 3 / p["shape"]

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        # Michael, Schucany & Haas (1976), with the smaller root written without
        # cancellation: x1 = m / (1 + t/2 + sqrt(t (1 + t/4))), t = m z^2 / lam
        p = cls.params_from_natural(eta, fixed)
        shape = size + eta.shape[:-1]
        m, lam = p["mean"], p["shape"]
        t = m * rng.standard_normal(shape) ** 2 / lam
        q = 1 + t / 2 + np.sqrt(t) * np.sqrt(1 + t / 4)  # x1 = m / q, x2 = m^2 / x1 = m q
        # take x1 with probability m / (m + x1) = q / (q + 1)
        return np.where(rng.random(shape) * (q + 1) <= q, m / q, m * q)

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        p = cls.params_from_natural(eta, fixed)
        return stats.invgauss(p["mean"] / p["shape"], scale=p["shape"])

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """InverseGaussian(mean=1, shape=1): ``mu0 = (1, 2)``."""
        return np.array([1.0, 2.0])

    @classmethod
    def entropy_natural(cls, eta, fixed):
        return inverse_gaussian_entropy(eta[..., 0], eta[..., 1])

    @classmethod
    def log_density(cls, x, eta, fixed):
        return inverse_gaussian_log_density(x, eta[..., 0], eta[..., 1])

    @classmethod
    def kl_natural(cls, eta_p, eta_q, fixed):
        # KL = (r - 1 - log r) / 2 + lam_q (m_p - m_q)^2 / (2 m_p m_q^2), r = lam_q / lam_p
        return inverse_gaussian_kl(eta_p, eta_q)
