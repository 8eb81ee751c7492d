"""Shared mathematics of the number of successes in ``n`` trials (Bernoulli, Binomial).

``u(x) = x`` on ``{0, ..., n}``, ``eta = logit(p)``, ``A(eta) = n softplus(eta)``.
``log p = -softplus(-eta)`` and ``log(1 - p) = -softplus(eta)`` are used wherever ``p``
or ``1 - p`` may be tiny, so that the entropy and the KL divergence keep their relative
accuracy for ``p`` near 0 or 1.
"""

from __future__ import annotations

import numpy as np

from .. import _precise
from .._lazy import special
from ..domains import Integers
from ..solvers import closed_form
from ._base import ExponentialFamily, broadcast_params, require

#: relative distance to the boundary below which a mean counts as 0 or n (rounding)
_RTOL = 64 * np.finfo(float).eps


def softplus(eta):
    """``log(1 + e^eta)`` without overflow."""
    return np.logaddexp(0.0, eta)


def bernoulli_entropy(eta):
    """``-p log p - (1 - p) log(1 - p)`` for ``p = expit(eta)``, free of cancellation.

    Equal to ``A(eta) - eta p`` (since ``softplus(eta) - softplus(-eta) = eta``), but
    written as a sum of two non-negative terms.
    """
    return special.expit(eta) * softplus(-eta) + special.expit(-eta) * softplus(eta)


def check_probability(p) -> np.ndarray:
    """The success probability ``p`` as a float array, validated: ``0 < p < 1``."""
    p = broadcast_params(p=p)["p"]
    require((p > 0) & (p < 1), p, "p", "in (0, 1)")
    return p


class LogitFamily(ExponentialFamily):
    """Base of the number of successes in ``n`` independent trials with success
    probability ``p`` (Bernoulli: ``n = 1``; Binomial).

    ``u(x) = x`` on ``{0, ..., n}``, ``eta = logit(p)``, ``A(eta) = n softplus(eta)``,
    so ``grad A = n p`` and ``hess A = n p (1 - p)``; the KL divergence is ``n`` times the
    Bernoulli one.  Subclasses give ``n`` (:meth:`_trials`), ``log h`` (``element``), the
    SciPy mapping and the reference mean.
    """

    discrete = True
    param_names = ("p",)

    @classmethod
    def _trials(cls, fixed) -> int:
        """The number of trials ``n``."""
        raise NotImplementedError

    @classmethod
    def support_of(cls, fixed):
        return Integers(0, cls._trials(fixed))

    @classmethod
    def natural_dim(cls, fixed):
        return 1

    @classmethod
    def natural_from_params(cls, fixed, p=0.5):
        return special.logit(check_probability(p))[..., None]

    @classmethod
    def params_from_natural(cls, eta, fixed):
        return {"p": special.expit(eta[..., 0])}

    @classmethod
    def log_partition(cls, eta, fixed):
        return cls._trials(fixed) * softplus(eta[..., 0])

    @classmethod
    def mean_from_natural(cls, eta, fixed):
        return cls._trials(fixed) * special.expit(eta)

    @classmethod
    def fisher_from_natural(cls, eta, fixed):
        return (cls._trials(fixed) * special.expit(eta) * special.expit(-eta))[..., None]

    @classmethod
    def natural_from_mean(cls, mu, fixed):
        # eta = log(mu / (n - mu)); n - mu is exact for mu >= n/2
        with np.errstate(all="ignore"):
            return closed_form(np.log(mu) - np.log(cls._trials(fixed) - mu))

    @classmethod
    def natural_in_domain(cls, eta, fixed):
        return np.ones(eta.shape[:-1], dtype=bool)

    @classmethod
    def mean_in_interior(cls, mu, fixed):
        # sums of zeros are exactly 0; a sum of n's may be off by a few ulps
        n = cls._trials(fixed)
        return (mu[..., 0] > 0) & (n - mu[..., 0] > _RTOL * n)

    @classmethod
    def moments(cls, eta, fixed):
        n = cls._trials(fixed)
        p, q = special.expit(eta[..., 0]), special.expit(-eta[..., 0])
        return n * p, n * p * q

    @classmethod
    def draw(cls, eta, fixed, size, rng):
        p = special.expit(eta[..., 0])
        return rng.binomial(cls._trials(fixed), p, size=size + eta.shape[:-1]).astype(np.float64)

    kl_kernel = "logit_kl"  # expfam._divergence_jit, the same form compiled

    @classmethod
    def divergence_params(cls, fixed):
        """``p = [n]`` for the compiled KL."""
        return np.array([float(cls._trials(fixed))])

    @classmethod
    def kl_natural(cls, eta_p, eta_q, fixed):
        """``n`` times the Bernoulli KL, free of cancellation for nearby and extreme
        logits (:func:`expfam._precise.logit_kl`)."""
        return _precise.logit_kl(eta_p[..., 0], eta_q[..., 0], float(cls._trials(fixed)))

    @classmethod
    def log_density(cls, x, eta, fixed):
        """``log C(n, x) + x log p + (n - x) log q`` in Loader's saddle point form
        (:func:`expfam._precise.binomial_log_pmf`; ``log p = -softplus(-eta)``)."""
        e = eta[..., 0]
        return _precise.binomial_log_pmf(x, float(cls._trials(fixed)), -softplus(-e),
                                         -softplus(e), p=special.expit(e), q=special.expit(-e))
