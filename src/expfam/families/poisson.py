"""Poisson distribution.

``u(x) = x``, ``eta = log(lam)``, ``log h = -log(x!)``, ``A(eta) = exp(eta)``.
``E[log x!]`` (:meth:`Poisson.expected_log_base_measure`) has no closed form: it is
derived from the entropy.  The entropy, the log mass and the KL divergence come from
:mod:`expfam._precise` (Loader's saddle point log mass, the entropy as a
sum of ``-p log p`` terms or its series, ``lam_p (e^d - 1 - d)``), accurate to 1e-12
relative for rates from 1e-300 to 1e300 (``tests/precision/cases_discrete.py``).
"""

from __future__ import annotations

import numpy as np

from .. import _precise
from .._lazy import special, stats
from .._special import in_interval, lgamma1p_stirling, lookup, select
from ..domains import NATURALS, POSITIVE
from ..solvers import closed_form
from ._base import ExponentialFamily

#: log h(x) = -lgamma(x + 1) is looked up below this value by the kernels (Stirling above)
_TABLE = 1024


class Poisson(ExponentialFamily):
    """Poisson distribution on ``{0, 1, 2, ...}``.

    Parameters
    ----------
    rate : array_like
        Mean ``lam > 0``.
    """

    name = "poisson"
    discrete = True
    param_names = ("rate",)
    param_domains = {"rate": POSITIVE}
    support = NATURALS
    boundary_hint = "all counts are zero"

    def __init__(self, rate=1.0):
        self._init_natural(self.natural_from_params({}, rate=rate), {})

    @staticmethod
    def element(v, p, c):
        # p: the table of -lgamma(x + 1) for x < 1024; the Stirling series above
        return (v,), select(v < p.shape[0], lookup(p, v), -lgamma1p_stirling(v))

    @staticmethod
    def block_element(xs, m, p, bounds, buf):
        """The 1-D kernel's block map (compiled by :mod:`expfam._jit`; the same values as
        :attr:`element`): the checks and copies in one vectorised loop, the table in a
        second, the Stirling series only for the rare counts beyond the table (computing
        it for every value would keep the loop from vectorising)."""
        top = p.shape[0] - 1.0
        nbad = 0
        big = 0
        for j in range(m):  # vectorised
            v = xs[j]
            buf[0, j] = v
            nbad += not in_interval(v, bounds)
            big += v > top
        if nbad > 0:
            return nbad
        for j in range(m):
            buf[1, j] = lookup(p, xs[j])
        if big > 0:
            for j in range(m):
                if xs[j] > top:
                    buf[1, j] = -lgamma1p_stirling(xs[j])
        return 0

    @classmethod
    def element_params(cls, fixed):
        return cls.log_base_measure(np.arange(_TABLE, dtype=np.float64), fixed)

    @classmethod
    def natural_dim(cls, fixed):
        return 1

    @classmethod
    def natural_from_params(cls, fixed, rate=1.0):
        p = cls.check_params(rate=rate)
        return np.log(p["rate"])[..., None]

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"rate": np.exp(eta[..., 0])}

    @classmethod
    def log_base_measure(cls, x, fixed):
        return -special.gammaln(np.asarray(x) + 1)

    @classmethod
    def log_partition(cls, eta, fixed):
        return np.exp(eta[..., 0])

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        return np.exp(eta)

    @classmethod
    def fisher_from_natural(cls, eta, fixed):
        return np.exp(eta)[..., None]

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        return closed_form(np.log(mu))

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return np.ones(eta.shape[:-1], dtype=bool)

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        return mu[..., 0] > 0

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        """``E[-log x!] = A - eta mu - H = lam - lam log(lam) - H`` from the precise
        entropy (:func:`expfam._precise.poisson_entropy`)."""
        lam = np.exp(eta[..., 0])
        return lam - special.xlogy(lam, lam) - _precise.poisson_entropy(eta[..., 0])

    @classmethod
    def log_density(cls, x, eta, fixed):
        """``x log lam - lam - log x!`` in Loader's form (no cancellation at large rates)."""
        e = eta[..., 0]
        return _precise.poisson_log_pmf(x, np.exp(e), e)

    @classmethod
    def entropy_natural(cls, eta, fixed):
        """Shannon entropy in nats (:func:`expfam._precise.poisson_entropy`)."""
        return _precise.poisson_entropy(eta[..., 0])

    kl_kernel = "poisson_kl"  # expfam._divergence_jit, the same form compiled

    @classmethod
    def kl_natural(cls, eta_p, eta_q, fixed):
        """``lam_p (e^d - 1 - d)`` with ``d = eta_q - eta_p`` (:func:`expfam._precise.poisson_kl`)."""
        return _precise.poisson_kl(eta_p[..., 0], eta_q[..., 0])

    @classmethod
    def moments(cls, eta, fixed):
        lam = np.exp(eta[..., 0])
        return lam, lam

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        return rng.poisson(np.exp(eta[..., 0]), size=size + eta.shape[:-1]).astype(np.float64)

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        return stats.poisson(np.exp(eta[..., 0]))

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """Poisson(1): ``mu0 = 1``."""
        return np.array([1.0])
