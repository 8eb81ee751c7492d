"""Chi-square distribution with a continuous number of degrees of freedom ``df = k``.

``u(x) = log x``, ``eta = k / 2``, ``log h = -x / 2 - log x`` on ``x > 0``,
``A(eta) = lgamma(eta) + eta log 2``, so ``E[log x] = digamma(k / 2) + log 2``.
(Taking ``eta = k / 2`` rather than ``k / 2 - 1`` with ``log h = -x / 2`` keeps full
relative precision for tiny ``df``, where ``k / 2 - 1`` would round ``k`` away.)
The MLE solves ``digamma(k / 2) = mean(log x) - log 2``: a bracketed Newton iteration
started from the asymptotic inverse of the digamma function.  The mean domain is the
whole real line, so the MLE exists for any positive data.
``E[log h] = -k / 2 - E[log x]`` exactly.
"""

from __future__ import annotations

import numpy as np

from .. import _precise
from .._lazy import special, stats
from .._special import inverse_digamma_start, log
from ..domains import POSITIVE
from ..solvers import SolveResult, newton_1d
from ._base import ExponentialFamily

_LOG2 = np.log(2.0)


def inverse_digamma(s):
    """Solve ``digamma(a) = s`` for ``a > 0``, elementwise; returns (a, converged, iters).

    A bracketed Newton iteration with SciPy's digamma from Minka's start
    (:func:`expfam._special.inverse_digamma_start`).  Accurate over ``a`` from ``1e-300``
    to ``1e300`` (relative residual of ``digamma`` about one rounding error).
    """
    s = np.asarray(s, dtype=np.float64)
    with np.errstate(all="ignore"):
        a0 = inverse_digamma_start(s)
    # Newton steps stall at the rounding noise of digamma(a) - s, about eps * max(1, s)
    # relative to a (a * trigamma(a) > 1), so the step tolerance scales with s
    rtol = 4 * np.finfo(float).eps * np.maximum(1.0, s)
    return newton_1d(
        lambda a, s: special.digamma(a) - s,
        lambda a, s: special.polygamma(1, a),
        a0, 0.0, np.inf, increasing=True, args=(s,), rtol=rtol,
    )


class ChiSquare(ExponentialFamily):
    """Chi-square distribution with density
    ``x^(k/2 - 1) exp(-x / 2) / (2^(k/2) Gamma(k/2))`` on ``x > 0``.

    Parameters
    ----------
    df : array_like
        Degrees of freedom ``k > 0``, fitted as a continuous parameter.
    """

    name = "chi_square"
    param_names = ("df",)
    param_domains = {"df": POSITIVE}
    support = POSITIVE
    support_from_statistics = True
    boundary_hint = "none: the MLE exists for any positive data"

    def __init__(self, df=1.0):
        self._init_natural(self.natural_from_params({}, df=df), {})

    @staticmethod
    def element(v, p, c):
        lv = log(v)
        return (lv,), -0.5 * v - lv

    @classmethod
    def natural_dim(cls, fixed):
        return 1

    @classmethod
    def natural_from_params(cls, fixed, df=1.0):
        p = cls.check_params(df=df)
        return (0.5 * p["df"])[..., None]

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"df": 2.0 * eta[..., 0]}

    @classmethod
    def log_partition(cls, eta, fixed):
        a = eta[..., 0]
        return special.gammaln(a) + a * _LOG2

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        return special.digamma(eta) + _LOG2

    @classmethod
    def fisher_from_natural(cls, eta, fixed):
        return special.polygamma(1, eta)[..., None]

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        a, ok, it = inverse_digamma(mu[..., 0] - _LOG2)
        return SolveResult(a[..., None], ok, it)

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return eta[..., 0] > 0

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        return np.isfinite(mu[..., 0])

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        # E[-x/2 - log x] = -k/2 - (digamma(k/2) + log 2)
        return -eta[..., 0] - cls.mean_from_natural(eta, fixed)[..., 0]

    @classmethod
    def moments(cls, eta, fixed):
        k = 2.0 * eta[..., 0]
        return k, 2.0 * k

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        return 2.0 * rng.standard_gamma(eta[..., 0], size=size + eta.shape[:-1])

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        return stats.chi2(2.0 * eta[..., 0])

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """Two degrees of freedom (the exponential with mean 2):
        ``mu0 = digamma(1) + log 2 = log 2 - euler_gamma``."""
        return np.array([_LOG2 - np.euler_gamma])

    @classmethod
    def entropy_natural(cls, eta, fixed):
        """The Gamma(k/2, rate 1/2) entropy (:func:`expfam._precise.gamma_entropy`)."""
        a = eta[..., 0]
        return _precise.gamma_entropy(a, 1.0 - a, np.full(a.shape, 0.5))

    @classmethod
    def log_density(cls, x, eta, fixed):
        """Gamma(k/2, rate 1/2) in Loader's form (``x / 2`` is exact)."""
        a = eta[..., 0]
        x = np.asarray(x, dtype=np.float64)
        log_x = np.log(x)
        y = 0.5 * x  # exact but for subnormal results
        zero = np.zeros(np.shape(y))
        return _precise.gamma_log_density(x, a, np.zeros(a.shape), a - 1.0, y, zero,
                                          log_x - _LOG2, np.full(a.shape, -_LOG2))

    @classmethod
    def kl_natural(cls, eta_p, eta_q, fixed):
        """The Gamma KL at equal rates 1/2 (:func:`expfam._precise.gamma_kl`)."""
        ap, aq = eta_p[..., 0], eta_q[..., 0]
        half = np.full(ap.shape, 0.5)
        zero = np.zeros(ap.shape)
        return _precise.gamma_kl(ap, zero, half, aq, zero, half, aq - ap)
