"""Geometric distribution: the number of failures before the first success.

``u(x) = x``, ``eta = log(1 - p)`` (``eta < 0``), ``h = 1`` on ``{0, 1, 2, ...}``,
``A(eta) = -log p = -log(-expm1(eta))``.  The MLE is ``p = 1 / (1 + mean(x))``.

``p = -expm1(eta)`` and ``E[x] = e^eta / (-expm1(eta))`` keep full relative accuracy
for ``p`` near 0 (``eta -> 0``) and near 1 (``eta -> -inf``).

:class:`FailureCountFamily` holds the mathematics shared with the negative binomial
(``r`` successes).
"""

from __future__ import annotations

import numpy as np
from .._lazy import stats

from ._base import ExponentialFamily, closed_form
from .bernoulli import check_probability


def natural_from_odds(t):
    """``eta = log(t / (1 + t)) = log(1 - p)`` for the odds ``t = (1 - p) / p > 0``."""
    t = np.asarray(t, dtype=np.float64)
    with np.errstate(all="ignore"):
        return np.where(t > 1, -np.log1p(1 / t), np.log(t) - np.log1p(t))


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
    def sufficient_statistics(cls, x, fixed):
        return np.asarray(x, dtype=np.float64)[..., None]

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
    def in_support(cls, x, fixed):
        return (x >= 0) & (x == np.floor(x))

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return eta[..., 0] < 0

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        return mu[..., 0] > 0

    @classmethod
    def moments(cls, eta, fixed):
        mean = cls._successes(fixed) * odds_from_natural(eta[..., 0])
        return mean, mean / -np.expm1(eta[..., 0])


class Geometric(FailureCountFamily):
    """Geometric distribution of the number of failures before the first success,
    ``P(x = k) = p (1 - p)^k`` on ``{0, 1, 2, ...}``.

    This counts failures (support starting at 0), not trials: it equals
    ``scipy.stats.geom(p, loc=-1)`` and ``numpy``'s ``geometric(p) - 1``, and is the
    negative binomial with ``r = 1``.

    Parameters
    ----------
    p : array_like
        Success probability of one trial, ``0 < p < 1``.
    """

    name = "geometric"
    discrete = True
    param_names = ("p",)
    support = "{0, 1, 2, ...}"
    boundary_hint = "all counts are zero, so p would be 1"

    def __init__(self, p=0.5):
        self._init_natural(self.natural_from_params({}, p=p), {})

    @classmethod
    def _successes(cls, fixed):
        return 1.0

    @classmethod
    def log_base_measure(cls, x, fixed):
        return np.zeros(np.shape(x))

    @classmethod
    def expected_log_base_measure(cls, eta, fixed):
        return np.zeros(eta.shape[:-1])

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        p = -np.expm1(eta[..., 0])
        return (rng.geometric(p, size=size + eta.shape[:-1]) - 1).astype(np.float64)

    @classmethod
    def scipy_distribution(cls, eta, fixed):
        return stats.geom(-np.expm1(eta[..., 0]), loc=-1)

    @classmethod
    def reference_mean(cls, mu_data, fixed):
        """Geometric(1/2): one failure on average, ``mu0 = 1``."""
        return np.array([1.0])
