"""Shared mathematics of the number of failures before the ``r``-th success
(Geometric: ``r = 1``; NegativeBinomial).

``u(x) = x`` on ``{0, 1, 2, ...}``, ``eta = log(1 - p) < 0``,
``A(eta) = -r log p = -r log(-expm1(eta))``.  ``p = -expm1(eta)`` and
``E[x] = r e^eta / (-expm1(eta))`` keep full relative accuracy for ``p`` near 0
(``eta -> 0``) and near 1 (``eta -> -inf``).
"""

from __future__ import annotations

import numpy as np

from .. import _precise
from ..domains import NATURALS
from ..solvers import closed_form
from ._base import ExponentialFamily
from ._logit import check_probability


def natural_from_odds(t):
    """``eta = log(t / (1 + t)) = log(1 - p)`` for the odds ``t = (1 - p) / p > 0``."""
    t = np.asarray(t, dtype=np.float64)
    with np.errstate(all="ignore"):
        return np.where(t > 1, -np.log1p(1 / t), np.log(t) - np.log1p(t))


def geometric_kl(a, b):
    """``KL`` between the failure counts of one success with ``eta = a`` and ``eta = b``:
    ``A(b) - A(a) - (b - a) A'(a)`` with ``A = -log(-expm1(eta))``, ``c = A'(a)`` the odds
    and ``d = b - a``.  ``A(b) - A(a) = -log1p(w)``, ``w = -c expm1(d)``, so
    ``KL = -log1pmx(w) + c (e^d - 1 - d)``: two non-negative terms.  Where ``1 + w < 1/2``
    (``q``'s success probability much smaller), ``-log1p(w)`` is
    ``log(-expm1(a)) - log(-expm1(b))`` and the KL ``-log1p(w) - c d``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = b - a
    c = odds_from_natural(a)
    with np.errstate(all="ignore"):
        w = -c * np.expm1(np.minimum(d, 1.0))
        # c (e^d - 1 - d); for d > 1 as (e^b - e^a) / (1 - e^a) - c d (no overflow)
        cm = np.where(d <= 1.0, c * _precise.expm1mx(np.minimum(d, 1.0)),
                      (np.exp(b) - np.exp(a)) / -np.expm1(a) - c * d)
        near = -_precise.log1pmx(np.maximum(w, -0.5)) + cm
        far = np.log(-np.expm1(a)) - np.log(-np.expm1(b)) - c * d
    return np.where((d <= 1.0) & (w >= -0.5), near, far)


def odds_from_natural(eta):
    """``(1 - p) / p = e^eta / (-expm1(eta))`` for ``eta < 0``."""
    return np.exp(eta) / -np.expm1(eta)


class FailureCountFamily(ExponentialFamily):
    """Base of the number of failures before the ``r``-th success in independent trials
    with success probability ``p`` (Geometric: ``r = 1``; NegativeBinomial).

    ``u(x) = x`` on ``{0, 1, 2, ...}``, ``eta = log(1 - p) < 0``,
    ``A(eta) = -r log p = -r log(-expm1(eta))``, so ``grad A = r (1 - p) / p`` (``r`` times
    the odds) and ``hess A = r (1 - p) / p^2``.  Subclasses give ``r`` (:meth:`_successes`),
    ``log h``, sampling, the SciPy mapping and the reference mean.
    """

    discrete = True
    param_names = ("p",)
    support = NATURALS
    boundary_hint = "all counts are zero, so p would be 1"

    @classmethod
    def _successes(cls, fixed) -> float:
        """The number of successes ``r``."""
        raise NotImplementedError

    @classmethod
    def natural_dim(cls, fixed):
        return 1

    @classmethod
    def natural_from_params(cls, fixed, p=0.5):
        return np.log1p(-check_probability(p))[..., None]

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"p": -np.expm1(eta[..., 0])}

    @classmethod
    def log_partition(cls, eta, fixed):
        return -cls._successes(fixed) * np.log(-np.expm1(eta[..., 0]))

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        return cls._successes(fixed) * odds_from_natural(eta)

    @classmethod
    def fisher_from_natural(cls, eta, fixed):
        # Var x = r (1 - p) / p^2
        return (cls._successes(fixed) * odds_from_natural(eta) / -np.expm1(eta))[..., None]

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        # p = r / (r + mu): the odds (1 - p) / p are mu / r
        return closed_form(natural_from_odds(mu / cls._successes(fixed)))

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return eta[..., 0] < 0

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        return mu[..., 0] > 0

    kl_kernel = "failure_kl"  # expfam._divergence_jit, the same form compiled

    @classmethod
    def divergence_params(cls, fixed):
        """``p = [r]`` for the compiled KL."""
        return np.array([float(cls._successes(fixed))])

    @classmethod
    def kl_natural(cls, eta_p, eta_q, fixed):
        """``r`` times :func:`geometric_kl` (no cancellation for nearby members)."""
        return cls._successes(fixed) * geometric_kl(eta_p[..., 0], eta_q[..., 0])

    @classmethod
    def moments(cls, eta, fixed):
        mean = cls._successes(fixed) * odds_from_natural(eta[..., 0])
        return mean, mean / -np.expm1(eta[..., 0])
